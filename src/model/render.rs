//! Model renderers: Markdown (for people and GitHub), Mermaid (the data-flow
//! diagram alone) and JSON (the public, sorted contract).

use super::{categories, entry_label, Cell, EntryPoint, Evidence, Interaction, Model};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

pub fn json(m: &Model) -> String {
    let mut s = serde_json::to_string_pretty(m).unwrap_or_default();
    s.push('\n');
    s
}

/// Table cells: no pipes or newlines.
fn cellx(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

fn loc(file: &str, line: u32) -> String {
    format!("{file}:{line}")
}

fn ev_text(e: &Evidence) -> String {
    format!(
        "{} {} ({})",
        e.kind.replace('_', " "),
        code(&e.symbol),
        loc(&e.file, e.line)
    )
}

/// A list shortened to `n` items with "and N more".
fn first<T: AsRef<str>>(items: &[T], n: usize) -> String {
    let mut s: Vec<String> = items
        .iter()
        .take(n)
        .map(|x| x.as_ref().to_string())
        .collect();
    if items.len() > n {
        s.push(format!("and {} more", items.len() - n));
    }
    s.join("; ")
}

pub fn markdown(m: &Model, title: &str) -> String {
    let mut o = String::new();
    let s = &m.summary;
    // Interactions by surface, in order.
    let surface_of: BTreeMap<&str, &str> = m
        .entry_points
        .iter()
        .map(|e| (e.id.as_str(), e.surface.as_str()))
        .collect();
    let mut by_surface: BTreeMap<&str, Vec<&Interaction>> = BTreeMap::new();
    for i in &m.interactions {
        if let Some(sf) = surface_of.get(i.entry.as_str()) {
            by_surface.entry(sf).or_default().push(i);
        }
    }
    let in_surface =
        |sf: &str| -> Vec<&Interaction> { by_surface.get(sf).cloned().unwrap_or_default() };
    let _ = writeln!(o, "# Threat model: {title}\n");
    let _ = writeln!(
        o,
        "Drafted by threatscan {} from the code ({} files scanned, {} skipped). Every cell cites code: a **mitigation** names the guard, limiter, loader or call that provides it (`file:line`), a **GAP** says what is missing, and **n/a** says why the category does not apply. Call chains follow name-resolved calls up to {} levels deep.\n",
        m.version, s.files_scanned, s.files_skipped, s.max_depth
    );
    let _ = writeln!(
        o,
        "**{}** surfaces, **{}** entry points ({} network entry points without authentication), **{}** interactions, **{}** STRIDE gaps, **{}** abuse paths.\n",
        s.surfaces, s.entry_points, s.unauthenticated_entry_points, s.interactions, s.gaps, s.abuse_paths
    );

    // Surfaces.
    let _ = writeln!(o, "## Attack surfaces\n");
    let _ = writeln!(
        o,
        "| # | Surface | Kind | Entry points | Without auth | Rate-limited |"
    );
    let _ = writeln!(
        o,
        "|---|---------|------|--------------|--------------|--------------|"
    );
    for sf in &m.surfaces {
        let eps: Vec<&EntryPoint> = m
            .entry_points
            .iter()
            .filter(|e| e.surface == sf.id)
            .collect();
        let net = |e: &&&EntryPoint| super::NETWORK_ENTRIES.contains(&e.kind.as_str());
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            sf.id,
            cellx(&sf.name),
            sf.kind,
            eps.len(),
            eps.iter()
                .filter(net)
                .filter(|e| !e.auth.iter().any(|g| g.required))
                .count(),
            eps.iter().filter(|e| !e.rate_limit.is_empty()).count()
        );
    }
    o.push('\n');

    // Entry points per surface.
    let _ = writeln!(o, "## Entry points\n");
    for sf in &m.surfaces {
        let _ = writeln!(o, "### {}: {}\n", sf.id, sf.name);
        let _ = writeln!(
            o,
            "| # | Entry point | Handler | Auth | Rate limit | Reaches |"
        );
        let _ = writeln!(
            o,
            "|---|-------------|---------|------|------------|---------|"
        );
        for e in m.entry_points.iter().filter(|e| e.surface == sf.id) {
            let auth: Vec<String> = e
                .auth
                .iter()
                .map(|g| {
                    if g.required {
                        format!("{} ({})", code(&g.name), g.via)
                    } else {
                        format!("{} ({}, optional)", code(&g.name), g.via)
                    }
                })
                .collect();
            let lim: Vec<String> = e.rate_limit.iter().map(|g| code(&g.name)).collect();
            let mut reaches: BTreeMap<String, usize> = BTreeMap::new();
            for it in in_surface(&sf.id).into_iter().filter(|i| i.entry == e.id) {
                if let Some(sk) = &it.sink {
                    *reaches.entry(sk.kind.clone()).or_default() += 1;
                }
            }
            let reaches: Vec<String> = reaches.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} ({}) | {} | {} | {} |",
                e.id,
                cellx(&code(&entry_label(e))),
                code(&e.handler),
                loc(&e.file, e.line),
                if !e.auth.iter().any(|g| g.required) && auth.is_empty() {
                    "**none**".into()
                } else {
                    cellx(&auth.join(", "))
                },
                if lim.is_empty() {
                    "none".into()
                } else {
                    cellx(&lim.join(", "))
                },
                if reaches.is_empty() {
                    "—".into()
                } else {
                    reaches.join(", ")
                }
            );
        }
        o.push('\n');
    }

    // Assets.
    let _ = writeln!(o, "## Assets\n");
    if m.assets.is_empty() {
        let _ = writeln!(
            o,
            "No data stores, secrets, documents or outbound services found.\n"
        );
    } else {
        let _ = writeln!(o, "| # | Asset | Kind | Classification | Touched at |");
        let _ = writeln!(o, "|---|-------|------|----------------|------------|");
        for a in &m.assets {
            let at: Vec<String> = a
                .touched_at
                .iter()
                .map(|t| format!("{} ({})", loc(&t.file, t.line), code(&t.api)))
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                a.id,
                cellx(&a.name),
                a.kind,
                a.classification,
                cellx(&first(&at, 3))
            );
        }
        o.push('\n');
    }

    // Trust boundaries.
    let _ = writeln!(o, "## Trust boundaries\n");
    let _ = writeln!(o, "| Boundary | From → To | Interactions crossing it |");
    let _ = writeln!(o, "|----------|-----------|--------------------------|");
    for b in &m.boundaries {
        let items: Vec<String> = b
            .interactions
            .iter()
            .filter_map(|id| m.interactions.iter().find(|i| &i.id == id))
            .map(|i| interaction_short(m, i))
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} → {} | {}: {} |",
            cellx(&b.name),
            b.from,
            b.to,
            items.len(),
            cellx(&first(&items, 4))
        );
    }
    o.push('\n');

    // Diagram.
    let _ = writeln!(o, "## Data-flow diagram\n");
    let _ = writeln!(o, "```mermaid\n{}```\n", mermaid(m));

    // STRIDE matrix: one table per category, one row per surface.
    let _ = writeln!(o, "## STRIDE matrix\n");
    for (ci, (_, ctitle)) in categories().iter().enumerate() {
        let _ = writeln!(o, "### {ctitle}\n");
        let _ = writeln!(o, "| Surface | Status | Mitigation / Gap |");
        let _ = writeln!(o, "|---------|--------|------------------|");
        for sf in &m.surfaces {
            let cells: Vec<(&Interaction, &Cell)> = in_surface(&sf.id)
                .into_iter()
                .map(|i| (i, &i.stride[ci]))
                .collect();
            let (status, text) = surface_cell(&cells);
            let _ = writeln!(o, "| {} | {} | {} |", cellx(&sf.name), status, cellx(&text));
        }
        o.push('\n');
    }

    // Abuse paths.
    let _ = writeln!(o, "## Abuse paths\n");
    if m.abuse_paths.is_empty() {
        let _ = writeln!(
            o,
            "No chain from an unauthenticated network entry point to a dangerous sink.\n"
        );
    } else {
        let _ = writeln!(
            o,
            "Ranked by score = likelihood × impact (1–5 each). Likelihood: an unauthenticated network entry point whose handler reaches the sink directly or one call away scores 5, further away 4. Impact comes from the sink (rules/model.toml).\n"
        );
        for a in &m.abuse_paths {
            let chain: Vec<String> = a.chain.iter().map(|s| code(&s.symbol)).collect();
            let _ = writeln!(
                o,
                "{}. **score {}** ({} × {}): {} → {} at {}  \n   {}",
                a.rank,
                a.score,
                a.likelihood,
                a.impact,
                chain.join(" → "),
                code(&a.sink.api),
                loc(&a.sink.file, a.sink.line),
                a.why
            );
        }
        o.push('\n');
    }

    // Interaction details, folded per surface.
    let _ = writeln!(o, "## Interactions\n");
    for sf in &m.surfaces {
        let its: Vec<&Interaction> = in_surface(&sf.id).into_iter().collect();
        let _ = writeln!(
            o,
            "<details><summary>{}: {} ({} interactions)</summary>\n",
            sf.id,
            sf.name,
            its.len()
        );
        let _ = writeln!(
            o,
            "| # | Interaction | Call chain | S | T | R | I | D | E |"
        );
        let _ = writeln!(
            o,
            "|---|-------------|------------|---|---|---|---|---|---|"
        );
        for it in its {
            let chain: Vec<String> = it.chain.iter().map(|s| s.symbol.clone()).collect();
            let marks: Vec<&str> = it
                .stride
                .iter()
                .map(|c| match c.status.as_str() {
                    "mitigated" => "✔",
                    "gap" => "**GAP**",
                    _ => "n/a",
                })
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                it.id,
                cellx(&interaction_short(m, it)),
                cellx(&code(&chain.join(" → "))),
                marks.join(" | ")
            );
        }
        let _ = writeln!(o, "\n</details>\n");
    }
    o
}

fn interaction_short(m: &Model, i: &Interaction) -> String {
    let e = m.entry_points.iter().find(|e| e.id == i.entry);
    let who = e.map(entry_label).unwrap_or_default();
    match &i.sink {
        Some(s) => format!("{} → {} ({})", who, s.api, loc(&s.file, s.line)),
        None => format!(
            "{} ({})",
            who,
            e.map(|e| loc(&e.file, e.line)).unwrap_or_default()
        ),
    }
}

/// Aggregate a surface's cells for one category: any gap makes it a gap.
fn surface_cell(cells: &[(&Interaction, &Cell)]) -> (&'static str, String) {
    let gaps: Vec<&(&Interaction, &Cell)> =
        cells.iter().filter(|(_, c)| c.status == "gap").collect();
    if !gaps.is_empty() {
        let mut reasons: Vec<String> = vec![];
        for (_, c) in &gaps {
            let r = c.reason.clone().unwrap_or_default();
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
        return (
            "**GAP**",
            format!(
                "{} of {} interactions: {}",
                gaps.len(),
                cells.len(),
                first(&reasons, 3)
            ),
        );
    }
    let mut ev: BTreeSet<String> = BTreeSet::new();
    for (_, c) in cells.iter().filter(|(_, c)| c.status == "mitigated") {
        for e in &c.evidence {
            ev.insert(ev_text(e));
        }
    }
    if !ev.is_empty() {
        let ev: Vec<String> = ev.into_iter().collect();
        return ("mitigated", first(&ev, 4));
    }
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    for (_, c) in cells {
        reasons.insert(c.reason.clone().unwrap_or_default());
    }
    let reasons: Vec<String> = reasons.into_iter().collect();
    ("n/a", format!("n/a — {}", first(&reasons, 2)))
}

/// Mermaid label text: quotes and brackets are written as entities.
fn label(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('`', "'")
}

/// The data-flow diagram: actors outside, each trust boundary a subgraph
/// holding what is on its far side (surfaces behind network ingress, assets
/// behind the filesystem, process, database, network and parser boundaries).
pub fn mermaid(m: &Model) -> String {
    let mut o = String::from("flowchart LR\n");
    // Boundary membership of surfaces and assets, from the interactions.
    let mut surface_boundary: BTreeMap<String, String> = BTreeMap::new();
    let mut asset_boundary: BTreeMap<String, String> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut actor_edges: BTreeMap<(String, String), usize> = BTreeMap::new();
    let boundary = |id: &str| m.boundaries.iter().find(|b| b.id == id);
    for it in &m.interactions {
        let Some(e) = m.entry_points.iter().find(|e| e.id == it.entry) else {
            continue;
        };
        match &it.sink {
            None => {
                if let Some(b) = it.boundaries.first().and_then(|b| boundary(b)) {
                    surface_boundary
                        .entry(e.surface.clone())
                        .or_insert(b.id.clone());
                    *actor_edges
                        .entry((b.from.clone(), e.surface.clone()))
                        .or_default() += 1;
                }
            }
            Some(s) => {
                if let (Some(a), Some(b)) = (&it.asset, it.boundaries.first()) {
                    asset_boundary.entry(a.clone()).or_insert(b.clone());
                    let what = s.op.clone().unwrap_or_else(|| s.kind.replace('_', " "));
                    edges
                        .entry((e.surface.clone(), a.clone()))
                        .or_default()
                        .insert(what);
                }
            }
        }
    }
    let actors: BTreeSet<&String> = actor_edges.keys().map(|(a, _)| a).collect();
    for a in &actors {
        let _ = writeln!(o, "  {}([\"{}\"])", actor_id(a), label(a));
    }
    for b in &m.boundaries {
        let surfaces: Vec<&String> = surface_boundary
            .iter()
            .filter(|(_, x)| **x == b.id)
            .map(|(s, _)| s)
            .collect();
        let assets: Vec<&String> = asset_boundary
            .iter()
            .filter(|(_, x)| **x == b.id)
            .map(|(a, _)| a)
            .collect();
        if surfaces.is_empty() && assets.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "  subgraph {}[\"{}\"]",
            boundary_id(&b.id),
            label(&b.name)
        );
        for s in surfaces {
            if let Some(sf) = m.surfaces.iter().find(|x| &x.id == s) {
                let _ = writeln!(o, "    {}[\"{}\"]", sf.id, label(&sf.name));
            }
        }
        for a in assets {
            if let Some(asset) = m.assets.iter().find(|x| &x.id == a) {
                let shape = match asset.kind.as_str() {
                    "data_store" => ("[(\"", "\")]"),
                    "secret" => ("[/\"", "\"/]"),
                    _ => ("[\"", "\"]"),
                };
                let _ = writeln!(
                    o,
                    "    {}{}{}{}",
                    asset.id,
                    shape.0,
                    label(&asset.name),
                    shape.1
                );
            }
        }
        let _ = writeln!(o, "  end");
    }
    for ((actor, s), n) in &actor_edges {
        let _ = writeln!(
            o,
            "  {} -->|\"{} entry point{}\"| {}",
            actor_id(actor),
            n,
            if *n == 1 { "" } else { "s" },
            s
        );
    }
    for ((s, a), what) in &edges {
        let what: Vec<&str> = what.iter().map(String::as_str).collect();
        let _ = writeln!(o, "  {} -->|\"{}\"| {}", s, label(&what.join(", ")), a);
    }
    o
}

fn actor_id(name: &str) -> String {
    let id: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("actor_{id}")
}

fn boundary_id(id: &str) -> String {
    format!(
        "tb_{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}
