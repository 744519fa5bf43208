//! Facts: the public, serialisable inventory, and the passes that produce it
//! from linked files (sinks and secrets here; routes and guards in [`crate::routes`]).

use crate::catalog::{Catalog, LangCatalog};
use crate::extract::{split_method, CallExpr, Expr, FileFacts, Pos};
use crate::lang::Lang;
use crate::link::{Index, Target};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// A word kept for the life of the process. Spelt as an alias so that
/// serde's derive does not take a `&'static str` field for one borrowed
/// from the input (which would tie the facts to the bytes they are read
/// from).
pub type Word = &'static str;

/// A `&'static str` field read back from the result memo (see
/// [`crate::cache::Memo`]): kinds, languages and scopes are a handful of
/// words, each kept once for the life of the process. A memo naming more
/// distinct words than any real run does is refused (and recomputed).
pub(crate) fn static_str<'de, D: Deserializer<'de>>(d: D) -> Result<Word, D::Error> {
    use std::sync::Mutex;
    static WORDS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    const MAX_WORDS: usize = 1024;
    let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
    let mut words = WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(w) = words.iter().find(|w| **w == s) {
        return Ok(w);
    }
    if words.len() >= MAX_WORDS {
        return Err(serde::de::Error::custom("too many distinct words"));
    }
    let w: &'static str = Box::leak(s.into_owned().into_boxed_str());
    words.push(w);
    Ok(w)
}

/// A guard attached to a route: what it is, how it is attached, how sure.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct GuardRef {
    pub name: String,
    pub symbol: String,
    /// `decorator`, `dependency`, `middleware`, `extractor`, `mixin`,
    /// `permission_class`, `throttle_class`, `hook`, `in-handler`, `call`.
    pub via: String,
    /// `authentication`, `authorization` (auth guards) or `rate_limit`.
    #[serde(deserialize_with = "static_str")]
    pub kind: Word,
    /// Auth: a request without a valid credential is rejected (false: the
    /// credential is used when present, anonymous requests pass).
    pub required: bool,
    pub reason: String,
    pub file: String,
    pub line: u32,
    /// Rate limits that cover only some HTTP methods (`@ratelimit(method="POST")`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub methods: Vec<String>,
    /// The code that decides it: the check, then the rejection.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<EvidenceRef>,
}

/// A location in the code and what happens there.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct EvidenceRef {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub what: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Fact {
    #[serde(deserialize_with = "static_str")]
    pub kind: Word,
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(deserialize_with = "static_str")]
    pub language: Word,
    /// Code scope of the place: `production`, `test`, `example`, `docs`,
    /// `benchmark`, `build` or `vendored`.
    #[serde(skip_serializing_if = "str::is_empty", deserialize_with = "static_str")]
    pub scope: Word,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Routes: the router object (app, router, blueprint, URL list, scope)
    /// that holds the route, and the prefix it is mounted under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router: Option<String>,
    /// Routes: parts of the pattern that could not be evaluated, shown in it
    /// as `{name}` placeholders (`{settings.API_PREFIX}/items`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
    /// Routes: an earlier registration of the same method and path under the
    /// same application answers first; this one is never served.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadowed: bool,
    /// Routes: the condition of the `if` the registration is written under
    /// (`settings.OPEN_SIGNUP`): the route exists only when it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Vec<GuardRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<GuardRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Literal keyword arguments the catalogue asks for (`shell=True`, `verify=False`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub flags: BTreeMap<String, serde_json::Value>,
    /// Routes a guard or limiter applies to (`GET /api/items`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied_to: Vec<String>,
    /// The enclosing function, module-qualified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl Fact {
    pub fn new(kind: &'static str, file: &FileFacts, pos: Pos) -> Fact {
        Fact {
            kind,
            file: file.path.clone(),
            line: pos.line,
            column: pos.column,
            language: file.lang.name(),
            scope: file.code_scope_at(pos.line).as_str(),
            ..Default::default()
        }
    }
}

/// Sort facts deterministically: file, line, column, kind, then the full
/// record; exact duplicates are removed. Only facts that tie on position and
/// kind (a few per file) are serialised for the tie-break.
pub fn sort(facts: &mut Vec<Fact>) {
    fn primary(f: &Fact) -> (&str, u32, u32, &str) {
        (&f.file, f.line, f.column, f.kind)
    }
    // Sort small keys, then move each fact once: a fact is a large record,
    // and paths compare slower than ranks. Unstable is deterministic here:
    // ties are ordered by the full record below.
    // Facts come in runs from one file: hash a path only where a run starts.
    let mut rank: rustc_hash::FxHashMap<&str, u32> = Default::default();
    let mut run: Vec<u32> = Vec::with_capacity(facts.len());
    let mut prev: Option<&str> = None;
    for f in facts.iter() {
        if prev != Some(f.file.as_str()) {
            let next = rank.len() as u32;
            run.push(*rank.entry(f.file.as_str()).or_insert(next));
            prev = Some(&f.file);
        } else {
            run.push(*run.last().unwrap_or(&0));
        }
    }
    // Renumber the files in path order.
    let mut names: Vec<(&str, u32)> = rank.into_iter().collect();
    names.sort_unstable();
    let mut by_first_seen = vec![0u32; names.len()];
    for (sorted, (_, seen)) in names.into_iter().enumerate() {
        by_first_seen[seen as usize] = sorted as u32;
    }
    let mut order: Vec<(u32, u32, u32, u32)> = facts
        .iter()
        .zip(run)
        .enumerate()
        .map(|(i, (f, r))| (by_first_seen[r as usize], f.line, f.column, i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| facts[a.3 as usize].kind.cmp(facts[b.3 as usize].kind))
    });
    // Apply the permutation in place, one cycle at a time (no second copy
    // of every record): position i receives the fact at perm[i].
    let mut perm: Vec<u32> = order.iter().map(|o| o.3).collect();
    drop(order);
    for i in 0..perm.len() {
        let mut j = i;
        loop {
            let k = perm[j] as usize;
            perm[j] = j as u32;
            if k == i {
                break;
            }
            facts.swap(j, k);
            j = k;
        }
    }
    let mut start = 0;
    while start < facts.len() {
        let key = primary(&facts[start]);
        let end = start
            + facts[start..]
                .iter()
                .take_while(|f| primary(f) == key)
                .count();
        if end - start > 1 {
            facts[start..end].sort_by_cached_key(|f| serde_json::to_string(f).unwrap_or_default());
        }
        start = end;
    }
    facts.dedup_by(|a, b| {
        primary(a) == primary(b) && serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
    });
}

/// Sinks and secrets: every call whose callee resolves to a catalogue API.
pub fn sinks(
    idx: &Index,
    cat: &'static Catalog,
    out: &mut Vec<Fact>,
    extra: Option<&mut Vec<Fact>>,
) {
    // Files are independent here: each is read on a worker, and the results
    // are joined in file order (the same sequence as one thread).
    let want_extra = extra.is_some();
    let per_file = crate::par_map(idx.threads, idx.files.len(), |fi| {
        let mut out = vec![];
        let mut extra = vec![];
        file_sinks(idx, cat, fi, &mut out, want_extra.then_some(&mut extra));
        (out, extra)
    });
    let mut all_extra = extra;
    for (o, e) in per_file {
        out.extend(o);
        if let Some(x) = all_extra.as_deref_mut() {
            x.extend(e);
        }
    }
}

/// [`sinks`] of one file.
fn file_sinks(
    idx: &Index,
    cat: &'static Catalog,
    fi: usize,
    out: &mut Vec<Fact>,
    mut extra: Option<&mut Vec<Fact>>,
) {
    let f = &idx.files[fi];
    {
        let lc = cat.lang(f.lang);
        // The enclosing function's symbol, built only for calls that become facts.
        let function = |scope: Option<usize>| scope.map(|s| idx.def_symbol(fi, s));
        for (ci, (call, scope)) in idx.calls(fi).enumerate() {
            let api = match idx.callee(fi, ci) {
                Some(Target::External(api)) => api.as_str(),
                _ => "",
            };
            let sink = lc.sink_for(api);
            // A catalogued API passed uncalled to a factory that configures it.
            if sink.is_none() {
                if let Some(Target::External(arg)) = call
                    .positional(0)
                    .filter(|e| matches!(e, Expr::Name(..)))
                    .and_then(|e| idx.resolve_expr(fi, scope, e))
                {
                    if let Some(spec) = lc.argument_sink_for(&arg) {
                        let mut fact = Fact::new(&spec.kind, f, call.start);
                        fact.api = Some(arg.to_string());
                        fact.function = function(scope);
                        fact.via = Some(api.to_string());
                        record_flags(idx, fi, scope, call, &spec.flags, &mut fact);
                        out.push(fact);
                        continue;
                    }
                }
            }
            if api.is_empty() {
                continue;
            }
            if lc.secrets.env_apis.first(api).is_some() {
                if let Some(name) = call.positional(0).and_then(|e| idx.str_value(fi, scope, e)) {
                    if cat.secret_name(&name) {
                        let mut fact = Fact::new("secret", f, call.start);
                        fact.api = Some(api.to_string());
                        fact.name = Some(name);
                        fact.function = function(scope);
                        fact.reason = Some("environment read of a secret-named variable".into());
                        out.push(fact);
                    }
                }
                continue;
            }
            if lc.secrets.log_apis.first(api).is_some() {
                if let Some(name) = call
                    .args
                    .iter()
                    .find_map(|a| secret_mentioned(idx, cat, lc, fi, scope, &a.value, 0))
                {
                    let mut fact = Fact::new("secret_logged", f, call.start);
                    fact.api = Some(api.to_string());
                    fact.name = Some(name);
                    fact.function = function(scope);
                    fact.reason = Some("a secret-named value is passed to a logging call".into());
                    out.push(fact);
                }
            }
            if let Some(extra) = extra.as_deref_mut() {
                model_extras(idx, lc, fi, scope, call, api, extra);
            }
            let Some(spec) = sink else {
                continue;
            };
            let mut fact = Fact::new(&spec.kind, f, call.start);
            fact.api = Some(api.to_string());
            fact.function = function(scope);
            if let Some(op) = &spec.op {
                fact.op = Some(if op == "mode" {
                    open_mode(idx, fi, scope, call)
                } else {
                    op.clone()
                });
            }
            record_flags(idx, fi, scope, call, &spec.flags, &mut fact);
            if let Some(s) = spec.safe {
                fact.safe = Some(s);
                fact.reason = spec.reason.clone();
            }
            if let Some(safety) = &spec.safety {
                let (safe, reason) = judge_safety(idx, fi, scope, call, safety);
                fact.safe = Some(safe);
                fact.reason = Some(reason);
            }
            out.push(fact);
        }
        // `os.environ["SECRET"]` and hard-coded credentials.
        for s in &f.subscripts {
            if let Some(Target::External(base)) = idx.resolve_expr(fi, s.scope.get(), &s.base) {
                if lc.secrets.env_apis.first(&base).is_some() && cat.secret_name(&s.key) {
                    let mut fact = Fact::new("secret", f, s.pos);
                    fact.api = Some(base.to_string());
                    fact.name = Some(s.key.to_string());
                    fact.function = s.scope.get().map(|sc| idx.def_symbol(fi, sc));
                    fact.reason = Some("environment read of a secret-named variable".into());
                    out.push(fact);
                }
            }
        }
        // `session.verify = False`: a flag set on a client object for every
        // call it makes (catalogue `[[attr_flag]]`).
        for a in &f.assigns {
            let Some((head, attr)) = a.target.rsplit_once('.') else {
                continue;
            };
            for af in lc
                .attr_flag
                .iter()
                .filter(|x| x.flags.iter().any(|x| x == attr))
            {
                let Some(Target::External(t)) =
                    idx.type_of(fi, a.scope.get(), &Expr::Name(head.into(), a.pos), 0)
                else {
                    continue;
                };
                let Some(v) = literal_json(&a.value) else {
                    continue;
                };
                if af.types.iter().any(|x| **x == *t) {
                    let mut fact = Fact::new(af.kind.as_str(), f, a.pos);
                    fact.api = Some(format!("{t}.{attr}"));
                    fact.flags.insert(attr.to_string(), v);
                    fact.function = function(a.scope.get());
                    out.push(fact);
                }
            }
        }
        for a in &f.assigns {
            let Expr::Str(v) = &a.value else { continue };
            let leaf = a.target.rsplit(['.', ':']).next().unwrap_or(&a.target);
            if cat.secret_name(leaf) && !cat.not_a_secret_value(leaf, v) {
                let mut fact = Fact::new("secret", f, a.pos);
                fact.api = Some("hardcoded".into());
                fact.name = Some(leaf.to_string());
                fact.function = a.scope.get().map(|sc| idx.def_symbol(fi, sc));
                fact.reason = Some("string literal assigned to a secret-named variable".into());
                if let Some(over) = a
                    .scope
                    .get()
                    .is_none()
                    .then(|| overridden(idx, fi, &a.target))
                    .flatten()
                {
                    fact.safe = Some(true);
                    fact.reason = Some(format!(
                        "a default: every production module that imports this one with `*` assigns {} again ({over})",
                        a.target
                    ));
                }
                out.push(fact);
            }
        }
    }
}

/// Record the catalogue's flags (keyword arguments) of a call when their
/// values are literals, or names of module constants with literal values.
fn record_flags(
    idx: &Index,
    fi: usize,
    scope: Option<usize>,
    call: &CallExpr,
    flags: &[String],
    fact: &mut Fact,
) {
    for flag in flags {
        let arg = match call.kwarg(flag) {
            Some(a) => Some((fi, scope, a)),
            None => splat_kwarg(idx, fi, scope, call, flag),
        };
        let Some((af, ascope, arg)) = arg else {
            continue;
        };
        let (_, _, v) = idx.value_of(af, ascope, arg);
        if let Some(value) = literal_json(v) {
            fact.flags.insert(flag.clone(), value);
        }
    }
}

/// A keyword argument supplied through `**options`, where `options` is (or
/// names a variable or module constant holding) a dict literal with that key.
fn splat_kwarg<'a>(
    idx: &'a Index,
    fi: usize,
    scope: Option<usize>,
    call: &'a CallExpr,
    flag: &str,
) -> Option<(usize, Option<usize>, &'a Expr)> {
    for a in call.args.iter().filter(|a| a.name.as_deref() == Some("**")) {
        let (vf, vs, v) = idx.value_of(fi, scope, &a.value);
        if let Expr::Dict(pairs) = v {
            if let Some((_, val)) = pairs.iter().find(|(k, _)| k.as_str() == Some(flag)) {
                return Some((vf, vs, val));
            }
        }
    }
    None
}

fn literal_json(e: &Expr) -> Option<serde_json::Value> {
    Some(match e {
        Expr::Bool(b) => serde_json::Value::Bool(*b),
        Expr::Str(s) => serde_json::Value::String(s.to_string()),
        Expr::NoneLit => serde_json::Value::Null,
        Expr::Num(n) => n
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| serde_json::Value::String(n.to_string())),
        Expr::List(xs) => {
            serde_json::Value::Array(xs.iter().map(literal_json).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

/// The secret-named value an argument mentions, if any: a name such as
/// `password` or `settings.API_TOKEN`, an environment read of a secret-named
/// variable, or either inside an f-string, a `%` format or a concatenation.
/// String literals are text, not secrets.
fn secret_mentioned(
    idx: &Index,
    cat: &Catalog,
    lc: &LangCatalog,
    fi: usize,
    scope: Option<usize>,
    e: &Expr,
    depth: u32,
) -> Option<String> {
    if depth > 6 {
        return None;
    }
    let rec = |x: &Expr| secret_mentioned(idx, cat, lc, fi, scope, x, depth + 1);
    match e {
        Expr::Name(n, _) => {
            if !cat.secret_name(n) {
                return None;
            }
            // A loop variable over a collection nothing secret-named fills
            // (`for token, n in counts.items()` of display placeholders) is
            // an element of that collection, whatever its name says.
            if !n.contains(['.', ':']) {
                if let Some(Target::Var(vf, va)) = idx.resolve_expr(fi, scope, e) {
                    let a = &idx.files[vf].assigns[va];
                    if let (true, Expr::Element(inner)) =
                        (vf == fi && a.scope.get() == scope, &a.value)
                    {
                        if !mentions_secret_name(idx, cat, fi, scope, inner, 0) {
                            return None;
                        }
                    }
                }
            }
            Some(n.to_string())
        }
        Expr::Attr(a) => cat.secret_name(&a.name).then(|| a.name.to_string()),
        Expr::Subscript(s) => {
            if let (Some(Target::External(b)), Some(Expr::Str(k))) =
                (idx.resolve_expr(fi, scope, &s.base), s.keys.first())
            {
                if lc.secrets.env_apis.first(&b).is_some() && cat.secret_name(k) {
                    return Some(k.to_string());
                }
            }
            None
        }
        Expr::Call(c) => {
            if let Some(Target::External(api)) = idx.resolve_expr(fi, scope, &c.func) {
                if lc.secrets.env_apis.first(&api).is_some() {
                    return c
                        .positional(0)
                        .and_then(|a| a.as_str())
                        .filter(|k| cat.secret_name(k))
                        .map(str::to_string);
                }
            }
            None
        }
        Expr::Mix(xs) | Expr::List(xs) | Expr::Logic(_, xs) => xs.iter().find_map(rec),
        Expr::Not(x) | Expr::Element(x) => rec(x),
        Expr::Dict(kv) => kv.iter().find_map(|(_, v)| rec(v)),
        _ => None,
    }
}

/// A module-level name of `file` that every production module importing it
/// with `*` assigns again at module level (a base settings module's
/// development key that the production settings replace): where the first
/// of them does, or None.
fn overridden(idx: &Index, file: usize, target: &str) -> Option<String> {
    let importers: Vec<usize> = idx
        .glob_importers(file)
        .into_iter()
        .filter(|&g| idx.files[g].scope == crate::scope::Scope::Production)
        .collect();
    let mut first = None;
    for &g in &importers {
        let a = idx.files[g]
            .assigns
            .iter()
            .find(|a| a.scope.get().is_none() && a.target == target)?;
        first.get_or_insert_with(|| format!("{}:{}", idx.files[g].path, a.pos.line));
    }
    first
}

/// Does `e` mention a secret-named name, directly or through the local
/// assignments it reads?
fn mentions_secret_name(
    idx: &Index,
    cat: &Catalog,
    fi: usize,
    scope: Option<usize>,
    e: &Expr,
    depth: u32,
) -> bool {
    if depth > 6 {
        return true;
    }
    let mut found = false;
    crate::summary::visit(e, 0, &mut |x| {
        if found {
            return;
        }
        match x {
            Expr::Name(n, p) => {
                // A local is what it was assigned (its name is the author's
                // guess); a parameter, attribute or global is its name.
                let first = n.split(['.', ':']).next().unwrap_or(n);
                if let Some(Target::Var(vf, va)) =
                    idx.resolve_expr(fi, scope, &Expr::Name(first.into(), *p))
                {
                    let a = &idx.files[vf].assigns[va];
                    if vf == fi && a.scope.get() == scope && a.scope.get().is_some() {
                        found = idx.files[fi]
                            .assigns
                            .iter()
                            .filter(|b| b.scope.get() == scope && b.target == first)
                            .any(|b| {
                                mentions_secret_name(idx, cat, fi, scope, &b.value, depth + 1)
                            })
                            || (n.len() > first.len() && cat.secret_name(n));
                        return;
                    }
                }
                found = cat.secret_name(first) || cat.secret_name(n);
            }
            Expr::Attr(a) => found = cat.secret_name(&a.name),
            _ => {}
        }
    });
    found
}

/// Facts only the threat model needs: mitigation evidence (`[[evidence]]`:
/// audit logging, signature checks, validation, path normalisation) and
/// entry points made by a call (`[[entry]]`: CLI parsers, schedulers, dynamic
/// imports). Kinds are the catalogue's; `via` is `call`.
fn model_extras(
    idx: &Index,
    lc: &'static LangCatalog,
    fi: usize,
    scope: Option<usize>,
    call: &CallExpr,
    api: &str,
    extra: &mut Vec<Fact>,
) {
    let f = &idx.files[fi];
    let function = || scope.map(|s| idx.def_symbol(fi, s));
    if let Some(spec) = lc.evidence_for(api).filter(|spec| {
        spec.requires_keyword
            .as_deref()
            .is_none_or(|k| call.kwarg(k).is_some_and(|v| !matches!(v, Expr::NoneLit)))
    }) {
        let mut fact = Fact::new(&spec.kind, f, call.start);
        fact.api = Some(api.to_string());
        fact.function = function();
        fact.via = Some("call".into());
        extra.push(fact);
    }
    if let Some(spec) = lc.entry_call_for(api) {
        if let Some(p) = spec.dynamic_arg {
            match call.positional(p) {
                Some(e) if idx.str_value(fi, scope, e).is_none() => {}
                _ => return,
            }
        }
        // The registered function, when the call names it.
        let registered = if spec.function_arg.is_some() || spec.function_keyword.is_some() {
            let named = call.arg(spec.function_keyword.as_deref(), spec.function_arg);
            match named.and_then(|e| idx.resolve_expr(fi, scope, e)) {
                Some(crate::link::Target::Def(tf, td)) => Some(idx.def_symbol(tf, td)),
                // A function defined inside the registering one (a closure
                // handed to the framework), which name resolution leaves out.
                _ => match named {
                    Some(Expr::Name(n, _)) => match f.defs.iter().position(|d| {
                        d.parent == scope && d.name.rsplit(['.', ':']).next() == Some(n.as_str())
                    }) {
                        Some(di) => Some(idx.def_symbol(fi, di)),
                        None => return,
                    },
                    _ => return,
                },
            }
        } else {
            None
        };
        let mut fact = Fact::new(&spec.kind, f, call.start);
        fact.api = Some(api.to_string());
        fact.function = registered.or_else(function);
        fact.via = Some("call".into());
        extra.push(fact);
    }
}

fn open_mode(idx: &Index, fi: usize, scope: Option<usize>, c: &CallExpr) -> String {
    match c
        .arg(Some("mode"), Some(1))
        .and_then(|e| idx.str_value(fi, scope, e))
    {
        Some(m) if m.contains(['w', 'a', 'x', '+']) => "write".into(),
        _ => "read".into(),
    }
}

/// Decide `safe` for APIs whose safety depends on an argument (a YAML Loader,
/// a ruamel `typ=`), resolving names through imports and aliases.
fn judge_safety(
    idx: &Index,
    fi: usize,
    scope: Option<usize>,
    c: &CallExpr,
    s: &crate::catalog::Safety,
) -> (bool, String) {
    // The call that carries the argument: the call itself, or the receiver's constructor.
    let holder: Option<(usize, Option<usize>, CallExpr)> = if s.constructor {
        split_method(&c.func).and_then(|(recv, _)| {
            let (vf, vs, v) = idx.value_of(fi, scope, &recv);
            v.as_call().map(|cc| (vf, vs, cc.clone()))
        })
    } else {
        Some((fi, scope, c.clone()))
    };
    let Some((hf, hs, holder)) = holder else {
        return (s.missing, s.missing_reason.clone());
    };
    let Some(arg) = holder.arg(s.keyword.as_deref(), s.position) else {
        return (s.missing, s.missing_reason.clone());
    };
    let value = match arg {
        Expr::Str(v) => v.to_string(),
        other => match idx.resolve_expr(hf, hs, other) {
            Some(t) => idx.symbol(&t),
            None => other.display(),
        },
    };
    let shown = format!(
        "{}={}",
        s.keyword.as_deref().unwrap_or("argument"),
        match arg {
            Expr::Str(v) => format!("{v:?}"),
            _ => value.clone(),
        }
    );
    if s.safe.contains(&value) {
        (true, format!("{shown} is a safe loader"))
    } else if let Some(base) = catalogued_base(idx, hf, hs, arg, &s.safe, 0) {
        (true, format!("{shown} subclasses {base}, a safe loader"))
    } else if let Some(base) = catalogued_base(idx, hf, hs, arg, &s.unsafe_values, 0) {
        (
            false,
            format!("{shown} subclasses {base}: {}", s.unsafe_reason),
        )
    } else if s.unsafe_values.contains(&value) {
        (false, s.unsafe_reason.clone())
    } else if s.otherwise {
        (true, format!("{shown} is not an unsafe loader"))
    } else {
        (false, format!("{shown} {}", s.unsafe_reason))
    }
}

/// The first of `names` that a repository class `e` derives from (through
/// its bases, transitively): what a subclass of `yaml.SafeLoader` is.
fn catalogued_base(
    idx: &Index,
    fi: usize,
    scope: Option<usize>,
    e: &Expr,
    names: &[String],
    depth: u32,
) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let Some(Target::Def(cf, cd)) = idx.resolve_expr(fi, scope, e) else {
        return None;
    };
    let d = &idx.files[cf].defs[cd];
    if d.kind != crate::extract::DefKind::Class {
        return None;
    }
    for b in &d.bases {
        if let Some(t) = idx.resolve_expr(cf, d.parent, b) {
            let sym = idx.symbol(&t);
            if names.contains(&sym) {
                return Some(sym);
            }
        }
        if let Some(found) = catalogued_base(idx, cf, d.parent, b, names, depth + 1) {
            return Some(found);
        }
    }
    None
}

pub fn lang_catalog(cat: &Catalog, l: Lang) -> &LangCatalog {
    cat.lang(l)
}
