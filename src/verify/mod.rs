//! `threatscan verify`: read a written threat model, resolve every code
//! reference in it, and check every mitigation, absence and n/a claim against
//! the facts. The repository is scanned, linked and indexed once; every
//! reference and claim is a lookup.

pub mod claims;
pub mod markdown;
pub mod model_doc;
pub mod refs;
pub mod sarif;
pub mod settings;
pub mod tm7;

use crate::link::Index;
use crate::Scan;
use claims::{Claim, Evidence};
use model_doc::Change;
use refs::{Reference, Symbols};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct DocReport {
    pub file: String,
    pub references: Vec<Reference>,
    pub claims: Vec<Claim>,
    /// Model JSON documents: entry points and interactions added or removed since the review.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// `.tm7` documents: what the diagram holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tm7: Option<Tm7Summary>,
    /// `.tm7` documents: each threat's state judged as a whole.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub threats: Vec<ThreatVerdict>,
    /// This document's claims by verdict.
    pub summary: DocSummary,
}

/// A `.tm7` threat's state as a whole: a Mitigated threat is backed only when
/// every claim of it the code can decide is supported; any contradicted claim
/// contradicts it; otherwise it is unverified.
#[derive(Debug, Serialize)]
pub struct ThreatVerdict {
    pub id: String,
    pub state: String,
    pub title: String,
    pub line: u32,
    pub column: u32,
    /// supported, contradicted, unverified
    pub verdict: String,
}

/// Claims of one document by verdict.
#[derive(Debug, Serialize, Default)]
pub struct DocSummary {
    pub claims: usize,
    pub supported: usize,
    pub contradicted: usize,
    pub unverified: usize,
    /// Advice and requirements: reported, not judged.
    pub recommendations: usize,
}

#[derive(Debug, Serialize, Default)]
pub struct Summary {
    pub references: usize,
    pub resolved: usize,
    pub missing: usize,
    pub external: usize,
    pub ambiguous: usize,
    pub claims: usize,
    pub supported: usize,
    pub contradicted: usize,
    pub unverified: usize,
    /// Advice and requirements: reported, not judged.
    pub recommendations: usize,
    /// New entry points and interactions not in a reviewed model JSON.
    pub new_in_code: usize,
    /// Entry points and interactions of a reviewed model JSON gone from the code.
    pub gone_from_code: usize,
}

#[derive(Debug, Serialize)]
pub struct Tm7Summary {
    pub diagrams: Vec<String>,
    pub elements: Vec<tm7::Element>,
    pub threats: Vec<tm7::Threat>,
}

/// A threat model document, read and parsed.
pub enum Document {
    Markdown(String),
    Tm7(tm7::Tm7),
    /// threatscan model JSON, and its text (for line numbers).
    Model(model_doc::Reviewed, String),
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub documents: Vec<DocReport>,
    pub summary: Summary,
}

/// A document that cannot be read as a threat model.
#[derive(Debug)]
pub struct DocError(pub String);

/// Documents larger than this are refused by default (a threat model is a
/// few hundred kB); `verify --max-document-size` changes it.
pub const MAX_DOCUMENT: u64 = 64 * 1024 * 1024;

/// Read and parse a document: `.tm7` (Threat Modeling Tool XML), threatscan
/// model JSON (`.json`), or Markdown (anything else that is UTF-8 text).
pub fn read_document(path: &Path) -> Result<Document, DocError> {
    read_document_capped(path, MAX_DOCUMENT)
}

/// [`read_document`] with a size cap in bytes. Only regular files are read
/// (a FIFO or a device such as `/dev/zero` is refused before reading).
pub fn read_document_capped(path: &Path, cap: u64) -> Result<Document, DocError> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let bytes = crate::fsread::read_given(path, cap).map_err(|e| {
        DocError(match e {
            crate::fsread::ReadError::NotRegular("directory") => {
                format!("{name} is a directory, not a threat model document")
            }
            crate::fsread::ReadError::TooLarge(cap) => format!(
                "{name} is over the {} limit for a threat model document (--max-document-size)",
                crate::walk::human_size(cap)
            ),
            e => format!("cannot read {name}: {e}"),
        })
    })?;
    document_from_bytes(&name, &ext, bytes)
}

/// Parse a document's bytes; `ext` is its lower-case file extension (it
/// decides `.tm7` and `.json` along with the content).
pub fn document_from_bytes(name: &str, ext: &str, bytes: Vec<u8>) -> Result<Document, DocError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if ext == "tm7"
        || (first == Some(b'<') && body.windows(12).take(4096).any(|w| w == b"<ThreatModel"))
    {
        return tm7::parse(name, &bytes)
            .map(Document::Tm7)
            .map_err(DocError);
    }
    if bytes.contains(&0) {
        return Err(DocError(format!(
            "{name} is a binary file, not a Markdown, .tm7 or model JSON threat model"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        DocError(format!(
            "{name} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    if ext == "json" || first == Some(b'{') {
        return model_doc::parse(name, &text)
            .map(|r| Document::Model(r, text))
            .map_err(DocError);
    }
    Ok(Document::Markdown(text))
}

/// What one document contributes, gathered as it is read.
#[derive(Default)]
struct Gathered {
    references: Vec<Reference>,
    claims: Vec<Claim>,
    changes: Vec<Change>,
}

impl Gathered {
    fn refs(&mut self, refs: Vec<Reference>, section: &str) {
        self.references.extend(refs.into_iter().map(|mut r| {
            r.section = section.to_string();
            r
        }));
    }
    fn claims(&mut self, cs: Vec<Claim>, section: &str) {
        self.claims.extend(cs.into_iter().map(|mut c| {
            c.section = section.to_string();
            c
        }));
    }
}

/// Plain-text references of a `.tm7` value, at their exact positions in the file.
fn plain_refs(
    symbols: &Symbols,
    text: &str,
    at: &tm7::Positions,
    repo: &Path,
    doc_dir: &Path,
) -> Vec<Reference> {
    refs::in_plain_text(text)
        .into_iter()
        .map(|(t, kind, k)| {
            let (l, c) = at.at(text, k);
            symbols.resolve(&kind, &t, repo, doc_dir, l, c)
        })
        .collect()
}

/// Claims a table row makes by citing other rows' ids: a threat row whose
/// mitigation cell says `M-3, O-2` claims what rows `M-3` and `O-2` claim.
/// A row's id is its first cell (`T1`, `DF7`); a bare number (`3`) under a
/// heading is also `<heading initial>-<n>` and `<initial><n>` (`M-3` under
/// "Mitigations", `U-2` under "Unmitigations"), the way such tables are cited.
fn cited_rows(units: &[markdown::Unit], claims: &[Claim]) -> Vec<Claim> {
    let mut ids: std::collections::BTreeMap<String, u32> = Default::default();
    // A citation carries a row's claims only where it cites a control: from
    // a column about mitigations, or of a row in a section about them (an ID
    // in a "Data flow" or "Crosses boundary" column names, it does not claim).
    let control = |h: Option<&String>| {
        h.is_some_and(|h| {
            let h = h.to_lowercase();
            claims::vocabulary()
                .prose
                .control_words
                .iter()
                .any(|w| h.contains(w.as_str()))
        })
    };
    let mut control_rows: std::collections::BTreeSet<u32> = Default::default();
    for u in units.iter().filter(|u| u.kind == "table_cell") {
        if u.section.iter().any(|h| control(Some(h))) {
            control_rows.insert(u.line);
        }
    }
    for u in units.iter().filter(|u| u.kind == "table_cell") {
        let id = u.text.trim();
        if u.row.as_deref() != Some(u.text.as_str())
            || id.is_empty()
            || id.len() > 12
            || id.contains(char::is_whitespace)
            || !id.contains(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        ids.entry(id.to_string()).or_insert(u.line);
        if id.chars().all(|c| c.is_ascii_digit()) {
            if let Some(initial) = u
                .section
                .last()
                .and_then(|h| h.chars().find(|c| c.is_alphabetic()))
            {
                let i = initial.to_ascii_uppercase();
                ids.entry(format!("{i}-{id}")).or_insert(u.line);
                ids.entry(format!("{i}{id}")).or_insert(u.line);
            }
        }
    }
    if ids.is_empty() {
        return vec![];
    }
    let mut by_line: std::collections::BTreeMap<u32, Vec<&Claim>> = Default::default();
    for c in claims.iter().filter(|c| c.status != "not_judged") {
        by_line.entry(c.line).or_default().push(c);
    }
    let mut out: Vec<Claim> = vec![];
    for u in units.iter().filter(|u| u.kind == "table_cell") {
        if u.row.as_deref() == Some(u.text.as_str()) || claims::non_claim_section(&u.section) {
            continue; // the row's own id, or a row that claims nothing (revision history)
        }
        let mut seen = std::collections::BTreeSet::new();
        for tok in u
            .text
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .filter(|t| !t.is_empty())
        {
            let Some(&at) = ids.get(tok) else { continue };
            if at == u.line || !seen.insert(tok) {
                continue;
            }
            if !control(u.column.as_ref()) && !control_rows.contains(&at) {
                continue;
            }
            for c in by_line.get(&at).into_iter().flatten() {
                let mut n = (*c).clone();
                n.line = u.line;
                n.column = None;
                n.context = u.context();
                n.reason = format!("by {tok} (line {at}): {}", c.reason);
                if !out.iter().any(|o| {
                    o.line == n.line && o.mitigation == n.mitigation && o.reason == n.reason
                }) {
                    out.push(n);
                }
            }
        }
    }
    out
}

/// `[verify.map]` of the repository's `.threatscan.toml`, each name with the
/// analysed files it pins (a module and its submodules, a path and what is
/// under it, or the files defining a class).
fn pins(scan: &Scan, idx: &Index, symbols: &Symbols) -> Vec<(String, Vec<String>)> {
    let Ok(cfg) = crate::rules::Config::load(&scan.root) else {
        return vec![];
    };
    cfg.verify
        .map
        .iter()
        .map(|(name, code)| {
            let code = code.trim();
            let dir = format!("{}/", code.trim_end_matches('/'));
            let sub = format!("{code}.");
            let mut files: Vec<String> = idx
                .files
                .iter()
                .zip(idx.module.iter())
                .filter(|(f, m)| {
                    f.path == code || f.path.starts_with(&dir) || *m == code || m.starts_with(&sub)
                })
                .map(|(f, _)| f.path.clone())
                .collect();
            if files.is_empty() {
                files = symbols.files_defining(code);
            }
            files.sort();
            (name.clone(), files)
        })
        .collect()
}

/// The package a document inside the repository belongs to: the nearest
/// directory above it, below the root, with a manifest (`pyproject.toml`,
/// `setup.py`, `Cargo.toml`, `package.json`) and production code of its own
/// (`libs/sdk/`). `None`: the document is about the whole repository.
fn package_of(doc: &Path, root: &Path, idx: &Index) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let doc = doc.canonicalize().ok()?;
    let mut dir = doc.parent()?;
    while dir.starts_with(&root) && dir != root {
        let manifest = ["pyproject.toml", "setup.py", "Cargo.toml", "package.json"]
            .iter()
            .any(|m| dir.join(m).is_file());
        if manifest {
            let rel = dir
                .strip_prefix(&root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let prefix = format!("{rel}/");
            let has_code = idx
                .files
                .iter()
                .any(|f| f.path.starts_with(&prefix) && f.scope == crate::scope::Scope::Production);
            return has_code.then_some(prefix);
        }
        dir = dir.parent()?;
    }
    None
}

/// Verify documents (already read) against a scanned repository.
pub fn verify(scan: &Scan, docs: &[(PathBuf, Document)]) -> Report {
    let idx = Index::build(scan);
    // The model is built only when a reviewed model JSON needs comparing.
    let (facts, extra, model, graph) = if docs.iter().any(|(_, d)| matches!(d, Document::Model(..)))
    {
        let b = crate::model::build_linked(scan, &idx, &crate::model::ModelOptions::default());
        (b.facts, b.extra, Some(b.model), Some(b.graph))
    } else {
        let mut extra = vec![];
        let facts = crate::linked_facts(&idx, Some(&mut extra));
        (facts, extra, None, None)
    };
    let mut symbols = Symbols::build(&idx);
    symbols.github = refs::github_repo(&scan.root);
    symbols.register_handlers(
        facts
            .iter()
            .filter(|f| f.kind == "route")
            .filter_map(|f| f.handler.as_deref()),
    );
    let ev = Evidence {
        routes: facts
            .iter()
            .filter(|f| f.kind == "route" && !f.shadowed)
            .collect(),
        facts: &facts,
        extra: &extra,
        validations: {
            let mut v = claims::validations(&idx);
            v.extend(claims::header_and_cookie_calls(&idx));
            v
        },
        symbols: &symbols,
        // The model's call graph when it was built, else a new one.
        graph: graph.unwrap_or_else(|| crate::model::callgraph::CallGraph::new(&idx)),
        elements: Default::default(),
        app: Default::default(),
        package: Default::default(),
        settings: Default::default(),
        pins: pins(scan, &idx, &symbols),
        scan,
        findings: Default::default(),
    };
    let mut documents = vec![];
    for (path, doc) in docs {
        *ev.package.borrow_mut() = package_of(path, &scan.root, &idx);
        let doc_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut g = Gathered::default();
        let mut tm7_summary = None;
        match doc {
            Document::Markdown(text) => {
                // References first, then claims: a claim in one cell of a
                // table row is about the code another cell of it cites.
                let units = markdown::units(text);
                let mut per_unit = vec![];
                for u in &units {
                    let mut unit_refs = vec![];
                    // The source file a line names first: bare names after it are its own.
                    let mut ctx = None;
                    let mut ctx_line = 0;
                    for c in &u.codes {
                        if c.line != ctx_line {
                            ctx = None;
                            ctx_line = c.line;
                        }
                        if let Some(k) = refs::classify_code(&c.text) {
                            unit_refs.extend(symbols.resolve_in(
                                &k, &c.text, &scan.root, &doc_dir, c.line, c.column, &mut ctx,
                            ));
                        }
                    }
                    for l in &u.links {
                        if let Some(k) = refs::classify_link(&l.text) {
                            unit_refs.push(
                                symbols
                                    .resolve(&k, &l.text, &scan.root, &doc_dir, l.line, l.column),
                            );
                        }
                    }
                    per_unit.push(unit_refs);
                }
                for (i, u) in units.iter().enumerate() {
                    let section = u.section.join(" › ");
                    if u.kind != "heading" {
                        let row: Vec<Reference> = if u.kind == "table_cell" {
                            units
                                .iter()
                                .zip(&per_unit)
                                .filter(|(o, _)| o.kind == "table_cell" && o.line == u.line)
                                .flat_map(|(_, r)| r.iter().cloned())
                                .collect()
                        } else {
                            per_unit[i].clone()
                        };
                        // A table's column header reads like a heading for its
                        // cells (a "Gaps" column), unless it mixes mitigations in.
                        let mut headings = u.section.clone();
                        headings.extend(
                            u.column
                                .clone()
                                .filter(|c| !c.to_lowercase().contains("mitigat")),
                        );
                        // The k-th " … " of the prose is the k-th code span.
                        let holes: Vec<usize> =
                            u.prose.match_indices(" … ").map(|(i, _)| i).collect();
                        let own = &per_unit[i];
                        let refs_in = |a: usize, b: usize| -> Vec<Reference> {
                            u.codes
                                .iter()
                                .zip(&holes)
                                .filter(|(_, h)| **h >= a && **h < b)
                                .flat_map(|(c, _)| {
                                    own.iter()
                                        .filter(|r| r.line == c.line && r.column == c.column)
                                        .cloned()
                                })
                                .collect()
                        };
                        // Settings the unit names: its code spans at their
                        // place in the prose, and the code block its last
                        // sentence introduces ("To enable X, set:") at its end.
                        let mut named: Vec<(usize, settings::Named)> = u
                            .codes
                            .iter()
                            .zip(&holes)
                            .filter_map(|(c, h)| settings::parse(&c.text).map(|n| (*h, n)))
                            .collect();
                        let end = u.prose.len().saturating_sub(1);
                        named.extend(
                            u.code_after
                                .iter()
                                .filter_map(|c| settings::parse(&c.text).map(|n| (end, n))),
                        );
                        let codes: Vec<(usize, &str)> = u
                            .codes
                            .iter()
                            .zip(&holes)
                            .map(|(c, h)| (*h, c.text.as_str()))
                            .collect();
                        let cs = claims::claims(
                            &claims::Spans {
                                prose: &u.prose,
                                lead: u.lead.as_deref(),
                                settings: &named,
                                codes: &codes,
                                column: u.column.as_deref(),
                            },
                            &u.context(),
                            &headings,
                            &|pos| u.line_at(pos),
                            &row,
                            &refs_in,
                            &ev,
                        );
                        g.claims(cs, &section);
                    }
                }
                g.claims.extend(cited_rows(&units, &g.claims));
                for (u, r) in units.iter().zip(per_unit) {
                    g.refs(r, &u.section.join(" › "));
                }
            }
            Document::Tm7(tm) => {
                for e in &tm.elements {
                    let section =
                        format!("{} › {} {}", e.diagram, e.kind.replace('_', " "), e.name);
                    let mut rs = vec![];
                    for p in &e.properties {
                        rs.extend(plain_refs(
                            &symbols,
                            &p.value,
                            &p.positions,
                            &scan.root,
                            &doc_dir,
                        ));
                    }
                    g.refs(rs, &section);
                }
                for t in &tm.threats {
                    let section = format!("threats › {} → {} ({})", t.source, t.target, t.flow);
                    let rs = plain_refs(
                        &symbols,
                        &t.justification,
                        &t.justification_positions,
                        &scan.root,
                        &doc_dir,
                    );
                    let cs = claims::threat_claims(t, &rs, &ev);
                    g.claims(cs, &section);
                    g.refs(rs, &section);
                }
                tm7_summary = Some(Tm7Summary {
                    diagrams: tm.diagrams.clone(),
                    elements: tm.elements.clone(),
                    threats: tm.threats.clone(),
                });
            }
            Document::Model(reviewed, text) => {
                if let Some(current) = &model {
                    let c =
                        model_doc::compare(reviewed, text, current, &symbols, &scan.root, &doc_dir);
                    g.claims(c.claims, "interactions");
                    g.refs(c.references, "mitigation symbols");
                    g.changes = c.changes;
                }
            }
        }
        let Gathered {
            mut references,
            claims: mut all_claims,
            changes,
        } = g;
        references.sort_by_key(|r| (r.line, r.column));
        all_claims.sort_by(|a, b| {
            (a.line, a.column, &a.mitigation).cmp(&(b.line, b.column, &b.mitigation))
        });
        let mut summary = DocSummary::default();
        for c in &all_claims {
            match c.status.as_str() {
                "supported" => summary.supported += 1,
                "contradicted" => summary.contradicted += 1,
                "not_judged" => summary.recommendations += 1,
                _ => summary.unverified += 1,
            }
            summary.claims += 1;
        }
        let mut threats = vec![];
        if let Some(tm) = &tm7_summary {
            let mut by_threat: rustc_hash::FxHashMap<&str, Vec<&Claim>> = Default::default();
            for c in &all_claims {
                if let Some(r) = &c.threat {
                    by_threat.entry(r.id.as_str()).or_default().push(c);
                }
            }
            for t in &tm.threats {
                let of = by_threat.get(t.id.as_str()).cloned().unwrap_or_default();
                let verdict = if of.iter().any(|c| c.status == "contradicted") {
                    "contradicted"
                } else if !of.is_empty() && of.iter().all(|c| c.status == "supported") {
                    "supported"
                } else {
                    "unverified"
                };
                threats.push(ThreatVerdict {
                    id: t.id.clone(),
                    state: t.state.clone(),
                    title: t.title.clone(),
                    line: t.line,
                    column: t.column,
                    verdict: verdict.into(),
                });
            }
        }
        documents.push(DocReport {
            file: path.display().to_string(),
            references,
            claims: all_claims,
            changes,
            tm7: tm7_summary,
            threats,
            summary,
        });
    }
    let mut s = Summary::default();
    for d in &documents {
        for r in &d.references {
            s.references += 1;
            match r.status.as_str() {
                "resolved" => s.resolved += 1,
                "missing" | "outside-repo" => s.missing += 1,
                "external" => s.external += 1,
                _ => s.ambiguous += 1,
            }
        }
        for c in &d.claims {
            s.claims += 1;
            match c.status.as_str() {
                "supported" => s.supported += 1,
                "contradicted" => s.contradicted += 1,
                "not_judged" => s.recommendations += 1,
                _ => s.unverified += 1,
            }
        }
        for c in &d.changes {
            if c.kind.starts_with("new_") {
                s.new_in_code += 1;
            } else {
                s.gone_from_code += 1;
            }
        }
    }
    Report {
        tool: "threatscan",
        version: env!("CARGO_PKG_VERSION"),
        documents,
        summary: s,
    }
}

pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

/// Above this many, the text report counts the fine rows of a document instead of listing them.
const MAX_FINE_ROWS: usize = 200;

/// Text for people: per document, grouped by section, problems first.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    for d in &r.documents {
        out.push_str(&format!("{}\n", d.file));
        // `.tm7` files are one long line: give columns there.
        let at = |line: u32, column: Option<u32>| match (d.tm7.is_some(), column) {
            (true, Some(c)) => format!("{}:{line}:{c}", d.file),
            _ => format!("{}:{line}", d.file),
        };
        let mut rows: Vec<(u8, String, u32, u32, String)> = vec![];
        for ch in &d.changes {
            let new = ch.kind.starts_with("new_");
            let place = match (&ch.location, ch.line) {
                (Some(l), _) => format!("{}:{}", l.file, l.line),
                (None, Some(l)) => at(l, None),
                _ => d.file.clone(),
            };
            rows.push((
                if new { 0 } else { 1 },
                "changes since the review".into(),
                ch.line.unwrap_or(0),
                0,
                format!("{place}: {:<12} {}", ch.kind.replace('_', " "), ch.what),
            ));
        }
        for x in &d.references {
            let rank = match x.status.as_str() {
                "missing" | "outside-repo" => 0,
                "ambiguous" => 1,
                "external" if x.used == Some(false) => 1,
                _ => 3,
            };
            let mut line = format!("{:<12} {} ({})", x.status, x.text, x.kind);
            if let Some(t) = &x.target {
                line.push_str(&format!(" → {}:{}", t.file, t.line));
            }
            if x.used == Some(false) && x.status == "resolved" {
                line.push_str(" [unused: nothing outside its definition refers to it]");
            }
            if let Some(sug) = &x.suggestion {
                line.push_str(&format!(" — did you mean {sug}?"));
            }
            if let Some(n) = &x.note {
                line.push_str(&format!(" — {n}"));
            }
            let place = at(x.line, Some(x.column));
            rows.push((
                rank,
                x.section.clone(),
                x.line,
                x.column,
                format!("{place}: {line}"),
            ));
        }
        for c in &d.claims {
            let rank = match c.status.as_str() {
                "contradicted" => 0,
                "unverified" => 2,
                _ => 3,
            };
            let mut line = format!(
                "{:<12} {} {} [{}]: {}",
                c.status, c.polarity, c.mitigation, c.context, c.reason
            );
            if let Some(e) = &c.element {
                if !c.reason.contains(e.as_str()) {
                    line.push_str(&format!(" (judged on {e})"));
                }
            }
            for e in c.evidence.iter().take(3) {
                line.push_str(&format!(" {}:{}", e.file, e.line));
            }
            let place = at(c.line, c.column);
            rows.push((
                rank,
                c.section.clone(),
                c.line,
                c.column.unwrap_or(0),
                format!("{place}: {line}"),
            ));
        }
        rows.sort();
        // A reviewed model has thousands of supported cells: count them instead.
        let fine = rows.iter().filter(|r| r.0 == 3).count();
        if fine > MAX_FINE_ROWS {
            rows.retain(|r| r.0 != 3);
        }
        let mut last_head = "";
        let mut last_section = String::from("\u{0}");
        for (rank, section, _, _, text) in rows {
            let head = match rank {
                0 => "  problems:\n",
                1 | 2 => "  to review:\n",
                _ => "  fine:\n",
            };
            if head != last_head {
                out.push_str(head);
                last_head = head;
                last_section = String::from("\u{0}");
            }
            if section != last_section {
                out.push_str(&format!(
                    "    {}\n",
                    if section.is_empty() {
                        "(top)"
                    } else {
                        &section
                    }
                ));
                last_section = section;
            }
            out.push_str(&format!("      {text}\n"));
        }
        if fine > MAX_FINE_ROWS {
            out.push_str(&format!(
                "  fine: {fine} resolved references and supported claims (listed by --format json)\n"
            ));
        }
        for t in &d.threats {
            out.push_str(&format!(
                "  threat {} ({}) {}: {}\n",
                t.id, t.state, t.title, t.verdict
            ));
        }
        let ds = &d.summary;
        out.push_str(&format!(
            "  {} claims: {} supported, {} contradicted, {} unverified, {} recommendations (not judged)\n",
            ds.claims, ds.supported, ds.contradicted, ds.unverified, ds.recommendations
        ));
    }
    let s = &r.summary;
    out.push_str(&format!(
        "threatscan: {} references ({} resolved, {} missing, {} external, {} ambiguous); {} claims ({} supported, {} contradicted, {} unverified, {} recommendations)",
        s.references, s.resolved, s.missing, s.external, s.ambiguous, s.claims, s.supported, s.contradicted, s.unverified, s.recommendations
    ));
    if s.new_in_code + s.gone_from_code > 0 {
        out.push_str(&format!(
            "; since the review: {} new in the code, {} gone",
            s.new_in_code, s.gone_from_code
        ));
    }
    out.push('\n');
    out
}

/// The `verify --format sarif` result kinds, for docs/rules.md.
pub fn results_markdown() -> String {
    let v = claims::vocabulary();
    let mut s = String::from(
        "\n# verify results\n\n`threatscan verify --format sarif` reports these, located in the threat model document (new entry points: in the code).\n\n| Id | Name | Level |\n|---|---|---|\n",
    );
    for r in &v.result {
        s.push_str(&format!(
            "| [{}](#{}-{}) | {} | {} |\n",
            r.id,
            r.id.to_lowercase(),
            r.name,
            r.name,
            r.level
        ));
    }
    for r in &v.result {
        s.push_str(&format!(
            "\n## {} {}\n\n**{}** · level {}\n\n{}\n\n{}\n",
            r.id, r.name, r.short, r.level, r.full, r.help
        ));
    }
    s
}
