//! The inferred threat model (`threatscan model`): entry points grouped into
//! surfaces, assets, trust boundaries, interactions (entry point → sink along a
//! name-resolved call graph) with a STRIDE cell per category, and ranked abuse
//! paths. What crosses which boundary, how assets are classified, how abuse
//! paths are scored (`rules/model.toml`) and which evidence mitigates which
//! STRIDE category (`rules/stride.toml`) are data.

pub mod callgraph;
pub mod render;

use crate::catalog::Catalog;
use crate::facts::{Fact, GuardRef};
use crate::link::Index;
use crate::walk::Skipped;
use crate::Scan;
use callgraph::{CallGraph, Node};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub const DEFAULT_DEPTH: usize = 6;

/// Fact kinds that are sinks in the model (data flows end there).
pub const SINK_KINDS: &[&str] = &[
    "file_io",
    "yaml_load",
    "deserialization",
    "process_exec",
    "network_out",
    "database",
    "secret",
    "llm_call",
];

/// Entry point kinds reached over the network (the others are local).
const NETWORK_ENTRIES: &[&str] = &["route", "websocket", "webhook"];

// ---------------------------------------------------------------- rules data

#[derive(Deserialize)]
struct ModelRules {
    boundary: Vec<BoundaryRule>,
    asset: Vec<AssetRule>,
    scoring: Scoring,
    entries: EntryWords,
}

#[derive(Deserialize)]
struct EntryWords {
    webhook_words: Vec<String>,
}

#[derive(Deserialize)]
struct BoundaryRule {
    id: String,
    name: String,
    from: String,
    to: String,
    #[serde(default)]
    entries: Vec<String>,
    #[serde(default)]
    sinks: Vec<String>,
}

#[derive(Deserialize)]
struct AssetRule {
    sink: String,
    kind: String,
    classification: String,
    group: String,
    label: String,
}

#[derive(Deserialize)]
struct Scoring {
    likelihood_direct: u32,
    likelihood_indirect: u32,
    impact: Vec<ImpactRule>,
}

#[derive(Deserialize)]
struct ImpactRule {
    sink: String,
    #[serde(default)]
    ops: Vec<String>,
    #[serde(default)]
    unsafe_only: bool,
    impact: u32,
    why: String,
}

#[derive(Deserialize)]
struct StrideRules {
    category: Vec<CategoryRule>,
}

#[derive(Deserialize)]
struct CategoryRule {
    id: String,
    title: String,
    evidence: Vec<String>,
    gap: String,
    na: String,
    applies: Vec<Cond>,
}

#[derive(Deserialize, Default)]
struct Cond {
    entries: Option<Vec<String>>,
    sinks: Option<Vec<String>>,
    methods: Option<Vec<String>>,
    ops: Option<Vec<String>>,
    #[serde(rename = "unsafe")]
    unsafe_: Option<bool>,
    /// The gap's wording for this alternative (else the category's).
    gap: Option<String>,
}

pub const MODEL_TOML: &str = include_str!("../../rules/model.toml");
pub const STRIDE_TOML: &str = include_str!("../../rules/stride.toml");

fn rules() -> &'static (ModelRules, StrideRules) {
    static R: OnceLock<(ModelRules, StrideRules)> = OnceLock::new();
    R.get_or_init(|| {
        (
            toml::from_str(MODEL_TOML).expect("rules/model.toml parses"),
            toml::from_str(STRIDE_TOML).expect("rules/stride.toml parses"),
        )
    })
}

/// STRIDE categories in order: (id, title).
pub fn categories() -> Vec<(String, String)> {
    rules()
        .1
        .category
        .iter()
        .map(|c| (c.id.clone(), c.title.clone()))
        .collect()
}

// ---------------------------------------------------------------- output

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Model {
    #[serde(deserialize_with = "crate::facts::static_str")]
    pub tool: crate::facts::Word,
    #[serde(deserialize_with = "crate::facts::static_str")]
    pub version: crate::facts::Word,
    pub summary: Summary,
    pub surfaces: Vec<Surface>,
    pub entry_points: Vec<EntryPoint>,
    pub assets: Vec<Asset>,
    pub boundaries: Vec<Boundary>,
    pub interactions: Vec<Interaction>,
    pub abuse_paths: Vec<AbusePath>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_skipped: usize,
    pub surfaces: usize,
    pub entry_points: usize,
    pub unauthenticated_entry_points: usize,
    pub interactions: usize,
    pub gaps: usize,
    pub abuse_paths: usize,
    pub max_depth: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Surface {
    pub id: String,
    pub name: String,
    /// `http`, `cli`, `scheduled`, `plugin`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    pub entry_points: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryPoint {
    pub id: String,
    /// `route`, `websocket`, `webhook`, `cli`, `scheduled`, `plugin`.
    pub kind: String,
    pub surface: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub methods: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The handler or function (`pkg.mod:func`).
    pub handler: String,
    /// How it was recognised: the route's framework, or the catalogued API.
    pub via: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub auth: Vec<GuardRef>,
    pub rate_limit: Vec<GuardRef>,
    /// Routes registered under an `if`: the condition they exist under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touch {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub api: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub name: String,
    /// `secret`, `data_store`, `document`, `outbound_service`, `process`.
    pub kind: String,
    /// `secret`, `confidential`, `internal`, `public`.
    pub classification: String,
    pub touched_at: Vec<Touch>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Boundary {
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub interactions: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct SinkRef {
    pub kind: String,
    pub api: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Step {
    pub symbol: String,
    pub file: String,
    pub line: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    pub kind: String,
    pub symbol: String,
    pub file: String,
    pub line: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cell {
    pub category: String,
    /// `mitigated`, `gap`, `n/a`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    pub entry: String,
    pub boundaries: Vec<String>,
    /// None: the entry point itself (the request reaching its handler).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<SinkRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Handler first, then each function called on the way to the sink.
    pub chain: Vec<Step>,
    pub stride: Vec<Cell>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AbusePath {
    pub rank: usize,
    pub interaction: String,
    pub entry: String,
    pub likelihood: u32,
    pub impact: u32,
    pub score: u32,
    pub why: String,
    pub chain: Vec<Step>,
    pub sink: SinkRef,
}

#[derive(Clone, Debug)]
pub struct ModelOptions {
    pub max_depth: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            max_depth: DEFAULT_DEPTH,
        }
    }
}

// ---------------------------------------------------------------- building

struct Entry {
    kind: String,
    surface_key: (String, String), // (kind, name)
    framework: Option<String>,
    methods: Vec<String>,
    pattern: Option<String>,
    handler: String,
    via: String,
    file: String,
    line: u32,
    column: u32,
    auth: Vec<GuardRef>,
    rate_limit: Vec<GuardRef>,
    condition: Option<String>,
    node: Option<Node>,
    /// Evidence known when the entry is found (a CI workflow's OIDC
    /// publishing, its pinned actions).
    evidence: Vec<Evidence>,
}

/// Build the model of a scanned repository.
///
/// With the cache, a model built from exactly the same inputs and options
/// before is read back (see [`crate::cache::Memo`]).
pub fn build(scan: &Scan, opts: &ModelOptions) -> Model {
    build_memoised(scan, opts).0
}

/// [`build`], and whether the model was read back from the result memo.
pub fn build_memoised(scan: &Scan, opts: &ModelOptions) -> (Model, bool) {
    let extra = opts.max_depth.to_le_bytes();
    if let Some(m) = scan.memo.as_ref().and_then(|m| m.get("model", &extra)) {
        return (m, true);
    }
    let idx = Index::build(scan);
    let model = build_linked(scan, &idx, opts).model;
    if let Some(m) = &scan.memo {
        m.put("model", &extra, &model);
    }
    (model, false)
}

/// The model and what it was built from: the facts, and the model-only facts
/// (mitigation evidence, non-route entry points), for `threatscan scan`.
pub struct Built<'a> {
    pub model: Model,
    pub facts: Vec<Fact>,
    pub extra: Vec<Fact>,
    /// The call graph the model was built on (its edges computed so far
    /// are kept: `scan` and `verify` go on with it rather than rebuild it).
    pub graph: CallGraph<'a>,
}

/// [`build`] over an existing index.
pub fn build_linked<'a>(scan: &Scan, idx: &'a Index<'a>, opts: &ModelOptions) -> Built<'a> {
    let cat = Catalog::builtin();
    let mut extra = vec![];
    let facts = crate::linked_facts(idx, Some(&mut extra));
    crate::facts::sort(&mut extra);
    let graph = CallGraph::new(idx);
    let (mr, sr) = rules();

    // Facts by the function that contains them.
    let mut sinks_in: FxHashMap<&str, Vec<&Fact>> = FxHashMap::default();
    let mut evidence_in: FxHashMap<&str, Vec<&Fact>> = FxHashMap::default();
    for f in &facts {
        if SINK_KINDS.contains(&f.kind) {
            if let Some(func) = &f.function {
                sinks_in.entry(func.as_str()).or_default().push(f);
            }
        }
    }
    let entry_kinds: BTreeSet<&str> = cat
        .python
        .entry
        .iter()
        .chain(&cat.rust.entry)
        .map(|e| e.kind.as_str())
        .collect();
    for f in &extra {
        if !entry_kinds.contains(f.kind) {
            if let Some(func) = &f.function {
                evidence_in.entry(func.as_str()).or_default().push(f);
            }
        }
    }

    // Entry points.
    let mut entries: Vec<Entry> = vec![];
    for f in facts.iter().filter(|f| f.kind == "route" && !f.shadowed) {
        let methods = f.methods.clone().unwrap_or_default();
        let pattern = f.pattern.clone().unwrap_or_default();
        let kind = if methods.iter().any(|m| m == "WEBSOCKET") {
            "websocket"
        } else if mr
            .entries
            .webhook_words
            .iter()
            .any(|w| pattern.to_lowercase().contains(w.as_str()))
        {
            "webhook"
        } else {
            "route"
        };
        let handler = f.handler.clone().unwrap_or_default();
        let framework = f.framework.clone().unwrap_or_default();
        let router = f.router.clone().unwrap_or_default();
        entries.push(Entry {
            kind: kind.into(),
            surface_key: ("http".into(), format!("{framework} {router}")),
            framework: Some(framework.clone()),
            methods,
            pattern: Some(pattern),
            node: graph.node_of(&handler),
            handler,
            via: framework,
            file: f.file.clone(),
            line: f.line,
            column: f.column,
            auth: f.auth.clone().unwrap_or_default(),
            rate_limit: f.rate_limit.clone().unwrap_or_default(),
            condition: f.condition.clone(),
            evidence: vec![],
        });
    }
    for f in extra.iter().filter(|f| entry_kinds.contains(f.kind)) {
        let fi = idx.file_index(&f.file);
        let handler = f
            .function
            .clone()
            .or_else(|| fi.map(|fi| idx.module[fi].clone()))
            .unwrap_or_else(|| f.file.clone());
        let node = match &f.function {
            Some(func) => graph.node_of(func),
            None => fi.map(|fi| (fi, None)),
        };
        entries.push(Entry {
            kind: f.kind.to_string(),
            surface_key: (f.kind.to_string(), surface_title(f.kind).into()),
            framework: None,
            methods: vec![],
            pattern: None,
            handler,
            via: f.api.clone().unwrap_or_default(),
            file: f.file.clone(),
            line: f.line,
            column: f.column,
            auth: vec![],
            rate_limit: vec![],
            condition: None,
            node,
            evidence: vec![],
        });
    }
    for (kind, node, api, pos) in graph.decorated_entries(cat) {
        let (fi, di) = node;
        let handler = match di {
            Some(d) => idx.def_symbol(fi, d),
            None => idx.module[fi].clone(),
        };
        entries.push(Entry {
            kind: kind.clone(),
            surface_key: (kind.clone(), surface_title(&kind).into()),
            framework: None,
            methods: vec![],
            pattern: None,
            handler,
            via: api,
            file: idx.files[fi].path.clone(),
            line: pos.line,
            column: pos.column,
            auth: vec![],
            rate_limit: vec![],
            condition: None,
            node: Some(node),
            evidence: vec![],
        });
    }
    // CI/CD workflows that publish: one entry point per job (the CI/CD →
    // registry boundary), with what mitigates a stolen credential (a
    // short-lived one) and moved action tags (every action SHA-pinned).
    for f in facts.iter().filter(|f| f.kind == "ci_publish") {
        let job = f.name.clone().unwrap_or_default();
        let mut evidence = vec![];
        if matches!(f.via.as_deref(), Some("oidc" | "github_token")) {
            evidence.push(Evidence {
                kind: "short_lived_credential".into(),
                symbol: match f.via.as_deref() {
                    Some("oidc") => "id-token: write (OIDC trusted publishing)".into(),
                    _ => "GITHUB_TOKEN".into(),
                },
                file: f.file.clone(),
                line: f.line,
            });
        }
        if !facts
            .iter()
            .any(|u| u.kind == "ci_action_unpinned" && u.file == f.file)
        {
            evidence.push(Evidence {
                kind: "pinned_actions".into(),
                symbol: "every uses: pinned to a commit SHA".into(),
                file: f.file.clone(),
                line: f.line,
            });
        }
        entries.push(file_entry("ci_workflow", &job, f, evidence));
    }
    // Code that runs when a developer or CI installs, builds or commits:
    // lifecycle scripts, pre-commit hooks at a movable revision, build
    // scripts' side effects (the workstation ← registry boundary).
    for f in facts.iter().filter(|f| {
        matches!(
            f.kind,
            "install_script" | "precommit_unpinned" | "install_time_exec"
        )
    }) {
        let what = f.name.clone().unwrap_or_default();
        entries.push(file_entry("install_time", &what, f, vec![]));
    }
    // One entry per handler and kind/pattern/method set (a function making two
    // CLI parser calls is one entry point).
    entries.sort_by(|a, b| {
        (
            &a.surface_key,
            &a.file,
            a.line,
            a.column,
            &a.pattern,
            &a.methods,
        )
            .cmp(&(
                &b.surface_key,
                &b.file,
                b.line,
                b.column,
                &b.pattern,
                &b.methods,
            ))
    });
    entries.dedup_by(|a, b| {
        a.kind != "route"
            && a.kind != "websocket"
            && a.kind != "webhook"
            && a.kind == b.kind
            && a.handler == b.handler
    });

    // Surfaces, in order of first appearance (entries are sorted by surface).
    let mut surfaces: Vec<Surface> = vec![];
    let mut surface_of: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut entry_points: Vec<EntryPoint> = vec![];
    for (i, e) in entries.iter().enumerate() {
        let sid = surface_of
            .entry(e.surface_key.clone())
            .or_insert_with(|| {
                let id = format!("S{}", surfaces.len() + 1);
                let name = match e.surface_key.0.as_str() {
                    "http" => http_surface_name(e),
                    _ => e.surface_key.1.clone(),
                };
                surfaces.push(Surface {
                    id: id.clone(),
                    name,
                    kind: e.surface_key.0.clone(),
                    framework: e.framework.clone(),
                    entry_points: vec![],
                });
                id
            })
            .clone();
        let id = format!("E{}", i + 1);
        if let Some(s) = surfaces.iter_mut().find(|s| s.id == sid) {
            s.entry_points.push(id.clone());
        }
        entry_points.push(EntryPoint {
            id,
            kind: e.kind.clone(),
            surface: sid,
            methods: e.methods.clone(),
            pattern: e.pattern.clone(),
            handler: e.handler.clone(),
            via: e.via.clone(),
            file: e.file.clone(),
            line: e.line,
            column: e.column,
            auth: e.auth.clone(),
            rate_limit: e.rate_limit.clone(),
            condition: e.condition.clone(),
        });
    }

    // Assets from every sink fact, reached or not.
    let mut asset_map: BTreeMap<(String, String), (usize, BTreeSet<Touch>)> = BTreeMap::new();
    let mut asset_key_of = |f: &Fact| -> Option<(String, String)> {
        let ai = mr.asset.iter().position(|r| r.sink == f.kind)?;
        let rule = &mr.asset[ai];
        let api = f.api.clone().unwrap_or_default();
        let name = match rule.group.as_str() {
            "name" => f.name.clone().unwrap_or_else(|| api.clone()),
            "api_root" => api_root(&api),
            _ => String::new(),
        };
        let label = rule.label.replace("{name}", &name);
        let entry = asset_map
            .entry((label.clone(), rule.kind.clone()))
            .or_insert_with(|| (ai, BTreeSet::new()));
        entry.1.insert(Touch {
            file: f.file.clone(),
            line: f.line,
            column: f.column,
            api,
            function: f.function.clone(),
        });
        Some((label, rule.kind.clone()))
    };
    let mut sink_asset: FxHashMap<(String, u32, u32, String), (String, String)> =
        FxHashMap::default();
    for f in facts.iter().filter(|f| SINK_KINDS.contains(&f.kind)) {
        if let Some(k) = asset_key_of(f) {
            sink_asset.insert((f.file.clone(), f.line, f.column, f.kind.to_string()), k);
        }
    }
    let mut assets: Vec<Asset> = vec![];
    let mut asset_id: BTreeMap<(String, String), String> = BTreeMap::new();
    for ((label, kind), (ai, touches)) in asset_map {
        let id = format!("A{}", assets.len() + 1);
        asset_id.insert((label.clone(), kind.clone()), id.clone());
        assets.push(Asset {
            id,
            name: label,
            kind,
            classification: mr.asset[ai].classification.clone(),
            touched_at: touches.into_iter().collect(),
        });
    }

    // Interactions.
    let mut interactions: Vec<Interaction> = vec![];
    for (e, ep) in entries.iter().zip(&entry_points) {
        let reach = match e.node {
            Some(n) => graph.reach(n, opts.max_depth),
            None => vec![],
        };
        // Evidence available to every interaction of this entry point.
        let mut base_ev: Vec<Evidence> = e.evidence.clone();
        // Only auth that rejects anonymous requests gates the route; an
        // optional identity does not mitigate spoofing.
        for g in e.auth.iter().filter(|g| g.required) {
            base_ev.push(guard_evidence("auth", g));
        }
        for g in &e.rate_limit {
            base_ev.push(guard_evidence("rate_limit", g));
        }
        for (node, _) in &reach {
            let sym = graph.symbol(*node);
            for f in evidence_in.get(sym.as_str()).into_iter().flatten() {
                base_ev.push(Evidence {
                    kind: f.kind.to_string(),
                    symbol: f.api.clone().unwrap_or_default(),
                    file: f.file.clone(),
                    line: f.line,
                });
            }
        }
        base_ev.sort();
        base_ev.dedup();
        let mut push = |sink: Option<&Fact>, chain: Vec<Step>| {
            let sref = sink.map(sink_ref);
            let boundaries: Vec<String> = mr
                .boundary
                .iter()
                .filter(|b| match sink {
                    None => b.entries.contains(&e.kind),
                    Some(f) => b.sinks.iter().any(|k| k == f.kind),
                })
                .map(|b| b.id.clone())
                .collect();
            let mut ev = base_ev.clone();
            if let Some(f) = sink.filter(|f| f.safe == Some(true)) {
                ev.push(Evidence {
                    kind: "safe_sink".into(),
                    symbol: f.api.clone().unwrap_or_default(),
                    file: f.file.clone(),
                    line: f.line,
                });
            }
            let stride = sr
                .category
                .iter()
                .map(|c| cell(c, e, sref.as_ref(), &ev))
                .collect();
            let asset = sink.and_then(|f| {
                sink_asset
                    .get(&(f.file.clone(), f.line, f.column, f.kind.to_string()))
                    .and_then(|k| asset_id.get(k).cloned())
            });
            interactions.push(Interaction {
                id: String::new(),
                entry: ep.id.clone(),
                boundaries,
                sink: sref,
                asset,
                chain,
                stride,
            });
        };
        let handler_chain: Vec<Step> = e.node.map(|n| vec![graph.step(n)]).unwrap_or_else(|| {
            vec![Step {
                symbol: e.handler.clone(),
                file: e.file.clone(),
                line: e.line,
            }]
        });
        push(None, handler_chain);
        let mut seen: BTreeSet<(String, u32, u32, String)> = BTreeSet::new();
        for (node, path) in &reach {
            let sym = graph.symbol(*node);
            for f in sinks_in.get(sym.as_str()).into_iter().flatten() {
                if !seen.insert((f.file.clone(), f.line, f.column, f.kind.to_string())) {
                    continue;
                }
                let chain = path.iter().map(|n| graph.step(*n)).collect();
                push(Some(f), chain);
            }
        }
    }
    for (i, it) in interactions.iter_mut().enumerate() {
        it.id = format!("I{}", i + 1);
    }

    let boundaries: Vec<Boundary> = mr
        .boundary
        .iter()
        .map(|b| Boundary {
            id: b.id.clone(),
            name: b.name.clone(),
            from: b.from.clone(),
            to: b.to.clone(),
            interactions: interactions
                .iter()
                .filter(|i| i.boundaries.contains(&b.id))
                .map(|i| i.id.clone())
                .collect(),
        })
        .filter(|b| !b.interactions.is_empty())
        .collect();

    // Abuse paths.
    let mut abuse: Vec<AbusePath> = vec![];
    for it in &interactions {
        let Some(s) = &it.sink else { continue };
        let ep = &entry_points[entry_index(&it.entry)];
        if !NETWORK_ENTRIES.contains(&ep.kind.as_str()) || ep.auth.iter().any(|g| g.required) {
            continue;
        }
        let Some(rule) = mr.scoring.impact.iter().find(|r| {
            r.sink == s.kind
                && (r.ops.is_empty() || s.op.as_ref().is_some_and(|o| r.ops.contains(o)))
                && (!r.unsafe_only || s.safe != Some(true))
        }) else {
            continue;
        };
        if s.safe == Some(true) {
            continue;
        }
        let hops = it.chain.len().saturating_sub(1);
        let likelihood = if hops <= 1 {
            mr.scoring.likelihood_direct
        } else {
            mr.scoring.likelihood_indirect
        };
        let why = format!(
            "likelihood {likelihood}: {} has no required auth guard and reaches the sink {}; impact {}: {} {}",
            entry_label(ep),
            match hops {
                0 => "in its handler".to_string(),
                1 => "one call away".to_string(),
                n => format!("{n} calls away"),
            },
            rule.impact,
            s.api,
            rule.why
        );
        abuse.push(AbusePath {
            rank: 0,
            interaction: it.id.clone(),
            entry: ep.id.clone(),
            likelihood,
            impact: rule.impact,
            score: likelihood * rule.impact,
            why,
            chain: it.chain.clone(),
            sink: s.clone(),
        });
    }
    abuse.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(entry_index(&a.entry).cmp(&entry_index(&b.entry)))
            .then(id_num(&a.interaction).cmp(&id_num(&b.interaction)))
    });
    for (i, a) in abuse.iter_mut().enumerate() {
        a.rank = i + 1;
    }

    let gaps = interactions
        .iter()
        .flat_map(|i| &i.stride)
        .filter(|c| c.status == "gap")
        .count();
    let model = Model {
        tool: "threatscan",
        version: env!("CARGO_PKG_VERSION"),
        summary: Summary {
            files_scanned: scan.stats.files_scanned,
            files_skipped: scan.stats.files_skipped,
            surfaces: surfaces.len(),
            entry_points: entry_points.len(),
            unauthenticated_entry_points: entry_points
                .iter()
                .filter(|e| {
                    NETWORK_ENTRIES.contains(&e.kind.as_str()) && !e.auth.iter().any(|g| g.required)
                })
                .count(),
            interactions: interactions.len(),
            gaps,
            abuse_paths: abuse.len(),
            max_depth: opts.max_depth,
        },
        surfaces,
        entry_points,
        assets,
        boundaries,
        interactions,
        abuse_paths: abuse,
        skipped: scan.skipped.clone(),
    };
    drop(sinks_in);
    drop(evidence_in);
    Built {
        model,
        facts,
        extra,
        graph,
    }
}

/// An entry point of `kind` from a fact about a file that is not code the
/// call graph holds (a workflow job, a lifecycle script): its handler is
/// `file:what`, its `via` the fact's API.
fn file_entry(kind: &str, what: &str, f: &Fact, evidence: Vec<Evidence>) -> Entry {
    Entry {
        kind: kind.into(),
        surface_key: (kind.into(), surface_title(kind).into()),
        framework: None,
        methods: vec![],
        pattern: None,
        handler: format!("{}:{what}", f.file),
        via: f.api.clone().unwrap_or_default(),
        file: f.file.clone(),
        line: f.line,
        column: f.column,
        auth: vec![],
        rate_limit: vec![],
        condition: None,
        node: None,
        evidence,
    }
}

fn surface_title(kind: &str) -> &'static str {
    match kind {
        "cli" => "Command-line entry points",
        "scheduled" => "Scheduled jobs and task queues",
        "plugin" => "Dynamic code loading",
        "ci_workflow" => "CI/CD workflows that publish",
        "install_time" => "Install- and build-time code",
        _ => "Other entry points",
    }
}

fn http_surface_name(e: &Entry) -> String {
    let fw = e.framework.clone().unwrap_or_default();
    let key = e.surface_key.1.trim_start_matches(&fw).trim();
    match key.split_once(' ') {
        Some((obj, prefix)) => format!("HTTP {prefix} ({fw} {obj})"),
        None => format!("HTTP ({fw} {key})"),
    }
}

/// `sqlite3.connect` → `sqlite3`; `std::fs::read` → `std::fs`; `builtins.open` → `builtins`.
fn api_root(api: &str) -> String {
    if let Some(rest) = api.strip_prefix("std::") {
        return format!("std::{}", rest.split("::").next().unwrap_or(""));
    }
    api.split(['.', ':']).next().unwrap_or(api).to_string()
}

fn guard_evidence(kind: &str, g: &GuardRef) -> Evidence {
    Evidence {
        kind: kind.into(),
        symbol: g.symbol.clone(),
        file: g.file.clone(),
        line: g.line,
    }
}

fn sink_ref(f: &Fact) -> SinkRef {
    SinkRef {
        kind: f.kind.to_string(),
        api: f.api.clone().unwrap_or_default(),
        file: f.file.clone(),
        line: f.line,
        column: f.column,
        op: f.op.clone(),
        safe: f.safe,
        reason: f.reason.clone(),
        name: f.name.clone(),
    }
}

fn entry_label_parts(
    kind: &str,
    methods: &[String],
    pattern: Option<&str>,
    handler: &str,
) -> String {
    match pattern {
        Some(p) => format!("{} {p}", methods.join(",")),
        None => format!("{kind} {handler}"),
    }
}

pub fn entry_label(e: &EntryPoint) -> String {
    entry_label_parts(&e.kind, &e.methods, e.pattern.as_deref(), &e.handler)
}

fn id_num(id: &str) -> usize {
    id[1..].parse().unwrap_or(0)
}

fn entry_index(id: &str) -> usize {
    id_num(id).saturating_sub(1)
}

fn cond_holds(c: &Cond, e: &Entry, sink: Option<&SinkRef>) -> bool {
    if let Some(es) = &c.entries {
        if !es.contains(&e.kind) {
            return false;
        }
    }
    if let Some(ss) = &c.sinks {
        let k = sink.map(|s| s.kind.as_str()).unwrap_or("none");
        if !ss.iter().any(|x| x == k) {
            return false;
        }
    }
    if let Some(ms) = &c.methods {
        if !e.methods.iter().any(|m| ms.contains(m)) {
            return false;
        }
    }
    if let Some(ops) = &c.ops {
        match sink.and_then(|s| s.op.as_ref()) {
            Some(o) if ops.contains(o) => {}
            _ => return false,
        }
    }
    if c.unsafe_ == Some(true) && sink.is_some_and(|s| s.safe == Some(true)) {
        return false;
    }
    true
}

fn cell(c: &CategoryRule, e: &Entry, sink: Option<&SinkRef>, ev: &[Evidence]) -> Cell {
    let fill = |t: &str| -> String {
        let entry = entry_label_parts(&e.kind, &e.methods, e.pattern.as_deref(), &e.handler);
        t.replace("{entry}", &entry)
            .replace("{sink}", sink.map(|s| s.kind.as_str()).unwrap_or("nothing"))
            .replace(
                "{api}",
                sink.map(|s| s.api.as_str()).unwrap_or("its handler"),
            )
    };
    let Some(alt) = c.applies.iter().find(|a| cond_holds(a, e, sink)) else {
        return Cell {
            category: c.id.clone(),
            status: "n/a".into(),
            reason: Some(fill(&c.na)),
            evidence: vec![],
        };
    };
    let found: Vec<Evidence> = ev
        .iter()
        .filter(|x| c.evidence.contains(&x.kind))
        .cloned()
        .collect();
    if found.is_empty() {
        Cell {
            category: c.id.clone(),
            status: "gap".into(),
            reason: Some(fill(alt.gap.as_deref().unwrap_or(&c.gap))),
            evidence: vec![],
        }
    } else {
        Cell {
            category: c.id.clone(),
            status: "mitigated".into(),
            reason: None,
            evidence: found,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rules_parse() {
        let (m, s) = super::rules();
        assert!(!m.boundary.is_empty());
        assert_eq!(s.category.len(), 6);
    }
}
