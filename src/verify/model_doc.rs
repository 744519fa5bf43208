//! threatscan's own model JSON as a reviewed threat model: a model generated
//! once, reviewed and committed, re-verified against later code. Entry points
//! and interactions are matched by what they are (kind, methods, pattern,
//! handler; sink kind, API and the function it sits in), not by their ids,
//! which are positional.

use super::claims::Claim;
use super::refs::{self, Location, Reference, Symbols};
use crate::model::{Interaction, Model};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Deserialize)]
pub struct Reviewed {
    pub tool: String,
    #[serde(default)]
    pub entry_points: Vec<REntry>,
    #[serde(default)]
    pub interactions: Vec<RInteraction>,
}

#[derive(Debug, Deserialize)]
pub struct REntry {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    pub handler: String,
}

#[derive(Debug, Deserialize)]
pub struct RInteraction {
    pub id: String,
    pub entry: String,
    #[serde(default)]
    pub sink: Option<RSink>,
    #[serde(default)]
    pub chain: Vec<RStep>,
    #[serde(default)]
    pub stride: Vec<RCell>,
}

#[derive(Debug, Deserialize)]
pub struct RSink {
    pub kind: String,
    pub api: String,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RStep {
    pub symbol: String,
}

#[derive(Debug, Deserialize)]
pub struct RCell {
    pub category: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub evidence: Vec<REvidence>,
}

#[derive(Debug, Deserialize)]
pub struct REvidence {
    pub symbol: String,
}

/// A difference between the reviewed model and the code that is not a claim:
/// an entry point or interaction added or removed since the review.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// new_entry_point, removed_entry_point, new_interaction, removed_interaction
    pub kind: String,
    pub what: String,
    /// Where the reviewed model mentions it (removed ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Where the code has it (new ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Parse a document as threatscan model JSON.
pub fn parse(name: &str, text: &str) -> Result<Reviewed, String> {
    let r: Reviewed = serde_json::from_str(text).map_err(|e| {
        format!(
            "{name} is not a threatscan model JSON file: {e} (write one with `threatscan model --format json`)"
        )
    })?;
    if r.tool != "threatscan" {
        return Err(format!(
            "{name} was written by {:?}, not threatscan: only threatscan model JSON can be re-verified",
            r.tool
        ));
    }
    Ok(r)
}

fn entry_key(kind: &str, methods: &[String], pattern: Option<&str>, handler: &str) -> String {
    let methods = methods.join(",");
    [kind, methods.as_str(), pattern.unwrap_or(""), handler]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An interaction's identity: its entry point, and the sink's kind, API,
/// operation and name and the function it sits in.
fn interaction_key(
    entries: &BTreeMap<&str, String>,
    entry_id: &str,
    sink: Option<(&str, &str, Option<&str>, Option<&str>)>,
    last: Option<&str>,
) -> String {
    let entry = entries.get(entry_id).map(String::as_str).unwrap_or("");
    match sink {
        Some((k, a, op, name)) => {
            let mut s = format!("{entry} → {k} {a}");
            if let Some(op) = op {
                s.push_str(&format!(" ({op})"));
            }
            if let Some(n) = name {
                s.push_str(&format!(" {n}"));
            }
            s.push_str(&format!(" in {}", last.unwrap_or("")));
            s
        }
        None => format!("{entry} (handler)"),
    }
}

/// Keys made unique by their order of appearance: the second identical
/// interaction (two `open` calls in one function) is `… #2`.
fn numbered(keys: Vec<String>) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    keys.into_iter()
        .map(|k| {
            let n = seen.entry(k.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                k
            } else {
                format!("{k} #{n}")
            }
        })
        .collect()
}

/// Lines of `"id": "X"` in a pretty-printed model, and a way to find the
/// line of a cell's category after it.
struct DocLines<'a> {
    lines: Vec<&'a str>,
    id_line: BTreeMap<String, usize>,
}

impl<'a> DocLines<'a> {
    fn new(text: &'a str) -> DocLines<'a> {
        let lines: Vec<&str> = text.lines().collect();
        let mut id_line = BTreeMap::new();
        for (i, l) in lines.iter().enumerate() {
            if let Some(rest) = l.trim_start().strip_prefix("\"id\": \"") {
                if let Some(id) = rest.split('"').next() {
                    id_line.entry(id.to_string()).or_insert(i);
                }
            }
        }
        DocLines { lines, id_line }
    }
    fn of_id(&self, id: &str) -> u32 {
        self.id_line.get(id).map(|i| *i as u32 + 1).unwrap_or(1)
    }
    fn of_category(&self, id: &str, category: &str) -> u32 {
        let Some(&start) = self.id_line.get(id) else {
            return 1;
        };
        let needle = format!("\"category\": \"{category}\"");
        self.lines[start..]
            .iter()
            .position(|l| l.contains(&needle))
            .map(|i| (start + i) as u32 + 1)
            .unwrap_or(start as u32 + 1)
    }
}

pub struct Compared {
    pub references: Vec<Reference>,
    pub claims: Vec<Claim>,
    pub changes: Vec<Change>,
}

/// Compare a reviewed model with the model of the code as it is now.
pub fn compare(
    reviewed: &Reviewed,
    text: &str,
    current: &Model,
    symbols: &Symbols,
    repo: &Path,
    doc_dir: &Path,
) -> Compared {
    let doc = DocLines::new(text);
    // Entry points, both sides.
    let r_entries: BTreeMap<&str, String> = reviewed
        .entry_points
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                entry_key(&e.kind, &e.methods, e.pattern.as_deref(), &e.handler),
            )
        })
        .collect();
    let c_entries: BTreeMap<&str, String> = current
        .entry_points
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                entry_key(&e.kind, &e.methods, e.pattern.as_deref(), &e.handler),
            )
        })
        .collect();
    let mut changes = vec![];
    let r_keys: BTreeSet<&String> = r_entries.values().collect();
    let c_keys: BTreeSet<&String> = c_entries.values().collect();
    for e in &current.entry_points {
        if !r_keys.contains(&c_entries[e.id.as_str()]) {
            changes.push(Change {
                kind: "new_entry_point".into(),
                what: format!("{} not in the reviewed model", crate::model::entry_label(e)),
                line: None,
                location: Some(Location {
                    file: e.file.clone(),
                    line: e.line,
                }),
            });
        }
    }
    for e in &reviewed.entry_points {
        let k = &r_entries[e.id.as_str()];
        if !c_keys.contains(k) {
            changes.push(Change {
                kind: "removed_entry_point".into(),
                what: format!("{} ({}) is no longer in the code", e.id, k.trim()),
                line: Some(doc.of_id(&e.id)),
                location: None,
            });
        }
    }
    // Interactions, by key.
    let c_key = |i: &Interaction| {
        let sink = i.sink.as_ref();
        interaction_key(
            &c_entries,
            &i.entry,
            sink.map(|s| {
                (
                    s.kind.as_str(),
                    s.api.as_str(),
                    s.op.as_deref(),
                    s.name.as_deref(),
                )
            }),
            i.chain.last().map(|s| s.symbol.as_str()),
        )
    };
    let r_key = |i: &RInteraction| {
        let sink = i.sink.as_ref();
        interaction_key(
            &r_entries,
            &i.entry,
            sink.map(|s| {
                (
                    s.kind.as_str(),
                    s.api.as_str(),
                    s.op.as_deref(),
                    s.name.as_deref(),
                )
            }),
            i.chain.last().map(|s| s.symbol.as_str()),
        )
    };
    let c_keyed = numbered(current.interactions.iter().map(c_key).collect());
    let r_keyed = numbered(reviewed.interactions.iter().map(r_key).collect());
    let current_by_key: BTreeMap<&str, &Interaction> = c_keyed
        .iter()
        .map(String::as_str)
        .zip(&current.interactions)
        .collect();
    let reviewed_keys: BTreeSet<&str> = r_keyed.iter().map(String::as_str).collect();
    for (i, k) in current.interactions.iter().zip(&c_keyed) {
        if !reviewed_keys.contains(k.as_str()) && r_keys.contains(&c_entries[i.entry.as_str()]) {
            // Interactions of new entry points are covered by the entry point.
            let (file, line) = i
                .sink
                .as_ref()
                .map(|s| (s.file.clone(), s.line))
                .or_else(|| i.chain.first().map(|s| (s.file.clone(), s.line)))
                .unwrap_or_default();
            changes.push(Change {
                kind: "new_interaction".into(),
                what: format!("{k} not in the reviewed model"),
                line: None,
                location: Some(Location { file, line }),
            });
        }
    }
    let mut claims = vec![];
    let mut symbols_cited: BTreeMap<String, u32> = BTreeMap::new();
    for (ri, k) in reviewed.interactions.iter().zip(&r_keyed) {
        let Some(ci) = current_by_key.get(k.as_str()) else {
            if c_keys.contains(r_entries.get(ri.entry.as_str()).unwrap_or(&String::new())) {
                changes.push(Change {
                    kind: "removed_interaction".into(),
                    what: format!("{} ({k}) is no longer in the code", ri.id),
                    line: Some(doc.of_id(&ri.id)),
                    location: None,
                });
            }
            continue;
        };
        for cell in &ri.stride {
            let line = doc.of_category(&ri.id, &cell.category);
            for e in &cell.evidence {
                symbols_cited.entry(e.symbol.clone()).or_insert(line);
            }
            let polarity = match cell.status.as_str() {
                "mitigated" => "present",
                "gap" => "absent",
                _ => "not_applicable",
            };
            let now = ci.stride.iter().find(|c| c.category == cell.category);
            let mut c = Claim {
                line,
                column: None,
                sentence_lines: None,
                threat: None,
                context: format!("{} / {k}", cell.category),
                mitigation: cell.category.clone(),
                polarity: polarity.into(),
                status: "unverified".into(),
                reason: String::new(),
                element: None,
                evidence: vec![],
                section: String::new(),
            };
            match now {
                None => c.reason = "the code's model has no such STRIDE category".into(),
                Some(now) => {
                    c.evidence = now
                        .evidence
                        .iter()
                        .map(|e| Location {
                            file: e.file.clone(),
                            line: e.line,
                        })
                        .collect();
                    let why = now.reason.clone().unwrap_or_default();
                    if now.status == cell.status {
                        c.status = "supported".into();
                        c.reason = format!("still {} in the code", now.status);
                        if !why.is_empty() {
                            c.reason.push_str(&format!(": {why}"));
                        }
                    } else {
                        c.status = "contradicted".into();
                        c.reason = match (cell.status.as_str(), now.status.as_str()) {
                            ("mitigated", _) => format!(
                                "reviewed as mitigated, the mitigation is gone: {}",
                                if why.is_empty() { &now.status } else { &why }
                            ),
                            ("gap", "mitigated") => format!(
                                "reviewed as a gap, now mitigated ({}): update the reviewed model",
                                now.evidence
                                    .iter()
                                    .map(|e| e.symbol.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            (old, new) => {
                                format!("reviewed as {old}, the code now makes it {new}: {why}")
                            }
                        };
                    }
                }
            }
            claims.push(c);
        }
    }
    // Every mitigation symbol the reviewed model cites is a reference.
    let mut references = vec![];
    for (sym, line) in symbols_cited {
        if let Some(kind) = refs::classify_code(&sym) {
            references.push(symbols.resolve(&kind, &sym, repo, doc_dir, line, 1));
        }
    }
    references.sort_by_key(|r| (r.line, r.column));
    claims.sort_by(|a, b| (a.line, &a.mitigation).cmp(&(b.line, &b.mitigation)));
    changes.sort_by(|a, b| (&a.kind, &a.what).cmp(&(&b.kind, &b.what)));
    Compared {
        references,
        claims,
        changes,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identical_interactions_are_numbered_in_order() {
        let keys = ["a", "b", "a", "a"].map(String::from).to_vec();
        assert_eq!(super::numbered(keys), ["a", "b", "a #2", "a #3"]);
    }
}
