//! Routes and the guards attached to them.
//!
//! Every framework is reduced to one shape: a graph of router objects (apps,
//! routers, blueprints, scopes, URL lists). An object holds routes, mounts of
//! other objects under a prefix, guards that apply to all of it, and layers that
//! apply to what was added before them (axum). Routes are emitted by walking the
//! graph from its roots (objects nobody mounts), joining prefixes and
//! collecting guards on the way down.

pub mod guards;

use crate::catalog::Catalog;
use crate::extract::Pos;
use crate::facts::{Fact, GuardRef};
use crate::link::Index;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct Guard {
    pub r: GuardRef,
    pub column: u32,
    pub limiter: bool,
}

#[derive(Clone, Debug)]
pub struct RouteDraft {
    pub methods: Vec<String>,
    pub pattern: String,
    /// (file, def) of the handler when it is in the repository.
    pub handler: Option<(usize, usize)>,
    pub handler_symbol: String,
    pub guards: Vec<Guard>,
    pub file: usize,
    pub pos: Pos,
    pub framework: String,
    /// Set when emitted: the router object holding the route and the prefix
    /// it is mounted under (the route's surface in the threat model).
    pub router: String,
    /// The condition of the `if` the registration is written under.
    pub condition: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Item {
    Route(RouteDraft),
    Mount {
        prefix: String,
        child: String,
        guards: Vec<Guard>,
        /// Where the mount is written, and the condition of the `if` it is
        /// written under (the mounted routes exist only when it holds).
        at: (usize, Pos),
        condition: Option<String>,
    },
    /// Guards that wrap everything added to the object before this item.
    Layer(Vec<Guard>),
}

#[derive(Clone, Debug, Default)]
pub struct Obj {
    pub framework: String,
    pub prefix: String,
    pub items: Vec<Item>,
    pub guards: Vec<Guard>,
    /// Only these methods reach the object (actix `.guard(guard::Post())`);
    /// empty: any.
    pub methods: Vec<String>,
    /// (file, pos) where the object is defined, for ordering.
    pub origin: (usize, Pos),
    /// Served only where mounted (a router, a blueprint).
    pub needs_mount: bool,
}

#[derive(Default)]
pub struct Graph {
    pub objs: BTreeMap<String, Obj>,
    pub mounted: BTreeSet<String>,
}

impl Graph {
    pub fn obj(&mut self, key: &str, framework: &str, origin: (usize, Pos)) -> &mut Obj {
        let o = self.objs.entry(key.to_string()).or_insert_with(|| Obj {
            framework: framework.to_string(),
            origin,
            ..Default::default()
        });
        if o.framework == "custom" && framework != "custom" {
            o.framework = framework.to_string();
        }
        o
    }

    pub fn mount(
        &mut self,
        parent: &str,
        framework: &str,
        origin: (usize, Pos),
        prefix: String,
        child: String,
        guards: Vec<Guard>,
    ) {
        self.mounted.insert(child.clone());
        self.obj(parent, framework, origin).items.push(Item::Mount {
            prefix,
            child,
            guards,
            at: origin,
            condition: None,
        });
    }
}

/// Join URL parts with exactly one `/` between them; regex anchors dropped; always leading `/`.
pub fn join(prefix: &str, pattern: &str) -> String {
    fn clean(s: &str) -> &str {
        let s = s.strip_prefix('^').unwrap_or(s);
        let s = s.strip_suffix('$').unwrap_or(s);
        // A regex's optional trailing slash (`share/(?P<slug>\w+)/?`): served either way.
        s.strip_suffix("/?").unwrap_or(s)
    }
    let (a, b) = (clean(prefix), clean(pattern));
    // `first`, then `/` and `second` when both parts are non-empty.
    let (first, second) = if a.is_empty() {
        (b, None)
    } else if b.is_empty() {
        (a, None)
    } else {
        (a.trim_end_matches('/'), Some(b.trim_start_matches('/')))
    };
    let leading = if second.is_some() {
        first.starts_with('/') || first.is_empty()
    } else {
        first.starts_with('/')
    };
    let mut out = String::with_capacity(first.len() + second.map_or(0, str::len) + 2);
    if !leading {
        out.push('/');
    }
    out.push_str(first);
    if let Some(second) = second {
        out.push('/');
        out.push_str(second);
    }
    out
}

/// Guard application sites: file → (line, column, limiter) → symbol → the
/// guard and the routes it covers.
type Sites =
    BTreeMap<String, BTreeMap<(u32, u32, bool), BTreeMap<String, (Guard, BTreeSet<String>)>>>;

/// Build the graph for every file and emit route, auth_guard and rate_limiter facts.
pub fn routes(idx: &Index, cat: &Catalog, out: &mut Vec<Fact>) {
    let mut g = Graph::default();
    let gc = guards::Classifier::new(idx, cat);
    crate::frameworks::build(idx, &gc, &mut g);
    // Mounts written under an `if`: their routes carry its condition.
    for o in g.objs.values_mut() {
        for it in &mut o.items {
            if let Item::Mount { at, condition, .. } = it {
                *condition = crate::frameworks::condition_at(idx, at.0, at.1);
            }
        }
    }

    if std::env::var_os("THREATSCAN_DEBUG_ROUTES").is_some() {
        for (k, o) in &g.objs {
            eprintln!(
                "obj {k:?} fw={} prefix={:?} mounted={}",
                o.framework,
                o.prefix,
                g.mounted.contains(k)
            );
            for it in &o.items {
                match it {
                    Item::Route(r) => eprintln!(
                        "    route {:?} {:?} {}",
                        r.methods, r.pattern, r.handler_symbol
                    ),
                    Item::Mount { prefix, child, .. } => {
                        eprintln!("    mount {prefix:?} {child:?}")
                    }
                    Item::Layer(l) => eprintln!("    layer {}", l.len()),
                }
            }
        }
    }
    let mut roots: Vec<&String> = g.objs.keys().filter(|k| !g.mounted.contains(*k)).collect();
    roots.sort();
    let mut emitted: Vec<(RouteDraft, Vec<Guard>)> = vec![];
    // Per application (root), in registration order: the first registration
    // of a method and path answers; later ones are shadowed.
    let mut shadowed: BTreeSet<usize> = BTreeSet::new();
    for r in roots {
        let mut stack = vec![];
        let from = emitted.len();
        // A router nobody is seen mounting is served (if at all) under a
        // prefix only the running program knows.
        let start = if g.objs[r].needs_mount {
            format!("{{{}mount point of {r}}}", crate::frameworks::UNKNOWN)
        } else {
            String::new()
        };
        walk(&g, r, &start, &[], &[], None, &mut stack, &mut emitted);
        let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
        for (i, (d, _)) in emitted.iter().enumerate().skip(from) {
            for m in &d.methods {
                let key = (m.clone(), d.pattern.trim_end_matches('/').to_string());
                match seen.get(&key) {
                    Some(h) if *h != d.handler_symbol => {
                        shadowed.insert(i);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(key, d.handler_symbol.clone());
                    }
                }
            }
        }
    }

    // Guard and limiter facts: one per guard application site, with the routes it covers.
    // file → (line, column, limiter) → symbol → (guard, routes it covers); looked up by
    // reference, so a site seen before costs no copies of its path and symbol.
    let mut sites: Sites = BTreeMap::new();
    for (ri, (route, gs)) in emitted.into_iter().enumerate() {
        let is_shadowed = shadowed.contains(&ri);
        let mut all = gs;
        match route.handler {
            Some((hf, hd)) => {
                all.extend(gc.handler_guards(hf, hd, Some(route.pos).filter(|_| route.file == hf)))
            }
            None => all.extend(gc.library_view_defaults(route.file, &route.handler_symbol)),
        }
        // A guard that covers only some methods (`@ratelimit(method="POST")`)
        // splits the route: one fact per method, each with its own guards.
        let split = route.methods.len() > 1
            && all.iter().any(|g| {
                !g.r.methods.is_empty() && route.methods.iter().any(|m| !g.r.methods.contains(m))
            });
        let groups: Vec<Vec<String>> = if split {
            route.methods.iter().map(|m| vec![m.clone()]).collect()
        } else {
            vec![route.methods.clone()]
        };
        for methods in groups {
            let covered = |g: &Guard| {
                g.r.methods.is_empty()
                    || methods
                        .iter()
                        .any(|m| m == "ANY" || g.r.methods.contains(m))
            };
            let f = &idx.files[route.file];
            let mut label = methods.join(",");
            label.push(' ');
            label.push_str(&route.pattern);
            let mut fact = Fact::new("route", f, route.pos);
            fact.framework = Some(route.framework.clone());
            fact.methods = Some(methods.clone());
            let (pattern, unresolved) = placeholders(&route.pattern);
            label = format!("{} {pattern}", methods.join(","));
            fact.pattern = Some(pattern);
            fact.unresolved = unresolved;
            fact.shadowed = is_shadowed;
            fact.condition = route.condition.clone();
            fact.handler = Some(route.handler_symbol.clone());
            fact.router = Some(route.router.clone());
            let mut auth: Vec<GuardRef> = vec![];
            let mut limits: Vec<GuardRef> = vec![];
            for gd in all.iter().filter(|g| covered(g)) {
                if !sites.contains_key(gd.r.file.as_str()) {
                    sites.insert(gd.r.file.clone(), BTreeMap::new());
                }
                let Some(by_pos) = sites.get_mut(gd.r.file.as_str()) else {
                    continue;
                };
                let by_symbol = by_pos
                    .entry((gd.r.line, gd.column, gd.limiter))
                    .or_default();
                if !by_symbol.contains_key(gd.r.symbol.as_str()) {
                    by_symbol.insert(gd.r.symbol.clone(), (gd.clone(), BTreeSet::new()));
                }
                if let Some(site) = by_symbol.get_mut(gd.r.symbol.as_str()) {
                    site.1.insert(label.clone());
                }
                let list = if gd.limiter { &mut limits } else { &mut auth };
                match list.iter_mut().find(|x| x.symbol == gd.r.symbol) {
                    // The same guard attached twice: a required attachment wins.
                    Some(x) => {
                        if gd.r.required && !x.required {
                            *x = gd.r.clone();
                        }
                    }
                    None => list.push(gd.r.clone()),
                }
            }
            auth.sort();
            limits.sort();
            fact.auth = Some(auth);
            fact.rate_limit = Some(limits);
            out.push(fact);
        }
    }
    let mut limiter_symbols = BTreeSet::new();
    for (file, by_pos) in sites {
        let Some(fi) = idx.file_index(&file) else {
            continue;
        };
        let f = &idx.files[fi];
        for ((line, column, limiter), by_symbol) in by_pos {
            for (gd, routes) in by_symbol.into_values() {
                let kind = if limiter {
                    "rate_limiter"
                } else {
                    "auth_guard"
                };
                let mut fact = Fact::new(kind, f, Pos { line, column });
                if limiter {
                    limiter_symbols.insert(gd.r.symbol.clone());
                }
                fact.name = Some(gd.r.name);
                fact.symbol = Some(gd.r.symbol);
                fact.via = Some(gd.r.via);
                fact.reason = Some(gd.r.reason);
                fact.applied_to = routes.into_iter().collect();
                out.push(fact);
            }
        }
    }
    // Home-grown limiters defined in the repository, applied or not.
    for (fi, di, reason) in gc.limiter_definitions() {
        let sym = idx.def_symbol(fi, di);
        let f = &idx.files[fi];
        let d = &f.defs[di];
        let mut fact = Fact::new("rate_limiter", f, d.pos);
        fact.name = Some(d.name.to_string());
        fact.symbol = Some(sym.clone());
        fact.via = Some("definition".into());
        fact.reason = Some(if limiter_symbols.contains(&sym) {
            reason
        } else {
            format!("{reason}; not applied to any route")
        });
        out.push(fact);
    }
}

#[allow(clippy::too_many_arguments)]
fn walk(
    g: &Graph,
    key: &str,
    prefix: &str,
    inherited: &[Guard],
    allowed: &[String],
    cond: Option<&str>,
    stack: &mut Vec<String>,
    out: &mut Vec<(RouteDraft, Vec<Guard>)>,
) {
    if stack.iter().any(|k| k == key) || stack.len() > 32 {
        return;
    }
    let Some(obj) = g.objs.get(key) else { return };
    // Method restrictions narrow on the way down.
    let allowed: Vec<String> = match (allowed.is_empty(), obj.methods.is_empty()) {
        (true, _) => obj.methods.clone(),
        (false, true) => allowed.to_vec(),
        (false, false) => allowed
            .iter()
            .filter(|m| obj.methods.contains(m))
            .cloned()
            .collect(),
    };
    stack.push(key.to_string());
    let p = join_prefix(prefix, &obj.prefix);
    let mut base: Vec<Guard> = inherited.to_vec();
    base.extend(obj.guards.iter().cloned());
    for (i, item) in obj.items.iter().enumerate() {
        // Layers added after this item wrap it.
        let mut gs = base.clone();
        for later in &obj.items[i + 1..] {
            if let Item::Layer(l) = later {
                gs.extend(l.iter().cloned());
            }
        }
        match item {
            Item::Route(r) => {
                let mut r = r.clone();
                if !allowed.is_empty() {
                    // `ANY` becomes what the object lets through; other
                    // methods it does not are never served.
                    r.methods = if r.methods.iter().any(|m| m == "ANY") {
                        allowed.clone()
                    } else {
                        r.methods
                            .iter()
                            .filter(|m| allowed.contains(m))
                            .cloned()
                            .collect()
                    };
                    if r.methods.is_empty() {
                        continue;
                    }
                }
                r.pattern = join(&p, &r.pattern);
                if r.condition.is_none() {
                    r.condition = cond.map(str::to_string);
                }
                r.router = key.to_string();
                if !p.is_empty() {
                    r.router.push(' ');
                    r.router.push_str(&join(&p, ""));
                }
                gs.extend(r.guards.iter().cloned());
                out.push((r, gs));
            }
            Item::Mount {
                prefix,
                child,
                guards,
                condition,
                ..
            } => {
                gs.extend(guards.iter().cloned());
                walk(
                    g,
                    child,
                    &join_prefix(&p, prefix),
                    &gs,
                    &allowed,
                    condition.as_deref().or(cond),
                    stack,
                    out,
                );
            }
            Item::Layer(_) => {}
        }
    }
    stack.pop();
}

/// A pattern with its unknown parts (`{\u{1}name}`) shown as `{name}`, and
/// those names.
fn placeholders(p: &str) -> (String, Vec<String>) {
    if !p.contains(crate::frameworks::UNKNOWN) {
        return (p.to_string(), vec![]);
    }
    let mut names = vec![];
    let mut out = String::with_capacity(p.len());
    let mut rest = p;
    while let Some(i) = rest.find(crate::frameworks::UNKNOWN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + crate::frameworks::UNKNOWN.len_utf8()..];
        let end = after.find('}').unwrap_or(after.len());
        names.push(after[..end].to_string());
        out.push_str(&after[..end]);
        rest = &after[end..];
    }
    out.push_str(rest);
    names.sort();
    names.dedup();
    (out, names)
}

fn join_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else if b.is_empty() {
        a.to_string()
    } else {
        join(a, b)
    }
}

/// HTTP method names recognised as route registration methods.
pub fn http_method(m: &str) -> Option<&'static str> {
    const METHODS: &[(&str, &str)] = &[
        ("get", "GET"),
        ("post", "POST"),
        ("put", "PUT"),
        ("patch", "PATCH"),
        ("delete", "DELETE"),
        ("head", "HEAD"),
        ("options", "OPTIONS"),
        ("trace", "TRACE"),
        ("connect", "CONNECT"),
        ("any", "ANY"),
        ("*", "ANY"),
    ];
    METHODS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(m))
        .map(|&(_, method)| method)
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_prefixes_with_one_slash() {
        assert_eq!(join("/api/v1", "/items"), "/api/v1/items");
        assert_eq!(join("/api/v1/items", "/"), "/api/v1/items/");
        assert_eq!(join("polls/", "<int:pk>/"), "/polls/<int:pk>/");
        assert_eq!(
            join("", "^legacy/(?P<id>[0-9]+)/$"),
            "/legacy/(?P<id>[0-9]+)/"
        );
        assert_eq!(join("/items", ""), "/items");
        assert_eq!(join("", ""), "/");
        assert_eq!(join("///", "/x"), "/x");
        assert_eq!(join("api", "v1/"), "/api/v1/");
        assert_eq!(join("^api/$", "^$"), "/api/");
    }
}
