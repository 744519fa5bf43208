//! `threatscan verify`: read a written threat model, resolve every code
//! reference in it, and check every mitigation, absence and n/a claim against
//! the facts. The repository is scanned, linked and indexed once; every
//! reference and claim is a lookup.

pub mod claims;
pub mod markdown;
pub mod refs;

use crate::link::Index;
use crate::Scan;
use claims::{Claim, Evidence};
use refs::{Reference, Symbols};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct DocReport {
    pub file: String,
    pub references: Vec<Reference>,
    pub claims: Vec<Claim>,
    /// Section (heading) of each reference and claim, by line, for the text report.
    #[serde(skip)]
    pub sections: Vec<(u32, String)>,
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

/// Read a document's text: UTF-8 Markdown only, for now.
pub fn read_document(path: &Path) -> Result<String, DocError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if ext == "tm7" {
        return Err(DocError(format!(
            "{}: .tm7 files are not supported yet (Markdown only in this version)",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        DocError(format!(
            "cannot read {}: {}",
            path.display(),
            crate::walk::plain_io(&e)
        ))
    })?;
    if bytes.contains(&0) {
        return Err(DocError(format!(
            "{} is a binary file, not a Markdown threat model",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|_| DocError(format!("{} is not valid UTF-8", path.display())))
}

/// Verify documents (already read) against a scanned repository.
pub fn verify(scan: &Scan, docs: &[(PathBuf, String)]) -> Report {
    let idx = Index::build(&scan.root, &scan.files);
    let mut extra = vec![];
    let facts = crate::linked_facts(&idx, Some(&mut extra));
    let symbols = Symbols::build(&idx);
    let ev = Evidence {
        routes: facts.iter().filter(|f| f.kind == "route").collect(),
        facts: &facts,
        extra: &extra,
    };
    let mut documents = vec![];
    for (path, text) in docs {
        let doc_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut references = vec![];
        let mut all_claims = vec![];
        let mut sections = vec![];
        for u in markdown::units(text) {
            let section = u.section.join(" › ");
            let mut unit_refs = vec![];
            for c in &u.codes {
                if let Some(k) = refs::classify_code(&c.text) {
                    unit_refs
                        .push(symbols.resolve(&k, &c.text, &scan.root, &doc_dir, c.line, c.column));
                }
            }
            for l in &u.links {
                if let Some(k) = refs::classify_link(&l.text) {
                    unit_refs
                        .push(symbols.resolve(&k, &l.text, &scan.root, &doc_dir, l.line, l.column));
                }
            }
            if u.kind != "heading" {
                let cs = claims::claims(&u.prose, &u.context(), u.line, &unit_refs, &ev);
                for c in &cs {
                    sections.push((c.line, section.clone()));
                }
                all_claims.extend(cs);
            }
            for r in &unit_refs {
                sections.push((r.line, section.clone()));
            }
            references.extend(unit_refs);
        }
        references.sort_by_key(|r| (r.line, r.column));
        all_claims.sort_by(|a, b| (a.line, &a.mitigation).cmp(&(b.line, &b.mitigation)));
        sections.sort();
        sections.dedup_by_key(|s| s.0);
        documents.push(DocReport {
            file: path.display().to_string(),
            references,
            claims: all_claims,
            sections,
        });
    }
    let mut s = Summary::default();
    for d in &documents {
        for r in &d.references {
            s.references += 1;
            match r.status.as_str() {
                "resolved" => s.resolved += 1,
                "missing" => s.missing += 1,
                "external" => s.external += 1,
                _ => s.ambiguous += 1,
            }
        }
        for c in &d.claims {
            s.claims += 1;
            match c.status.as_str() {
                "supported" => s.supported += 1,
                "contradicted" => s.contradicted += 1,
                _ => s.unverified += 1,
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

/// Text for people: per document, grouped by section, problems first.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    for d in &r.documents {
        out.push_str(&format!("{}\n", d.file));
        let section_of = |line: u32| -> String {
            let i = d.sections.partition_point(|s| s.0 <= line);
            i.checked_sub(1)
                .map(|i| d.sections[i].1.clone())
                .unwrap_or_default()
        };
        let mut rows: Vec<(u8, String, u32, String)> = vec![];
        for x in &d.references {
            let rank = match x.status.as_str() {
                "missing" => 0,
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
            rows.push((rank, section_of(x.line), x.line, line));
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
            for e in c.evidence.iter().take(3) {
                line.push_str(&format!(" {}:{}", e.file, e.line));
            }
            rows.push((rank, section_of(c.line), c.line, line));
        }
        rows.sort();
        let mut last_rank = u8::MAX;
        let mut last_section = String::from("\u{0}");
        for (rank, section, line, text) in rows {
            if rank != last_rank {
                out.push_str(match rank {
                    0 => "  problems:\n",
                    1 | 2 => "  to review:\n",
                    _ => "  fine:\n",
                });
                last_rank = rank;
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
            out.push_str(&format!("      {}:{line}: {text}\n", d.file));
        }
    }
    let s = &r.summary;
    out.push_str(&format!(
        "threatscan: {} references ({} resolved, {} missing, {} external, {} ambiguous); {} claims ({} supported, {} contradicted, {} unverified)\n",
        s.references, s.resolved, s.missing, s.external, s.ambiguous, s.claims, s.supported, s.contradicted, s.unverified
    ));
    out
}
